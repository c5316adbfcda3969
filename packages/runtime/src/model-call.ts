import {
  AgentrixError,
  type AgentrixEvents,
  backoffDelay,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type ChatStreamPart,
  type Clock,
  type Logger,
  type RetryPolicy,
  serializeError,
  sleep,
  toAgentrixError,
} from '@agentrix/core';
import type { TurnSignal } from './turn-signal.js';

export interface ModelCallContext {
  agentId: string;
  threadId: string;
  turnId: string;
  step: number;
  stream: boolean;
  retry: RetryPolicy;
  clock: Clock;
  events: AgentrixEvents | undefined;
  /** The turn's abort: it bounds the call even when the model ignores its signal. */
  turn: TurnSignal;
  logger?: Logger | undefined;
  /** Host secrets removed from the retry's event and log line. */
  secrets?: readonly string[] | undefined;
}

/**
 * One model call with retries: retryable failures (network, 5xx, rate limits, a stream that
 * ends without its finish part) are retried with exponential backoff, honouring a provider's
 * `retryAfterMs`; anything else, or the last attempt, throws. A model that retries by itself
 * (`managesRetries`, the gateway) gets one attempt: exactly one layer retries.
 *
 * The call is bounded by `signal` even when the model ignores it: a `generate` that never
 * settles or a stream that stops yielding is abandoned when the signal fires.
 */
export async function callModel(
  model: ChatModel,
  request: ChatRequest,
  context: ModelCallContext,
): Promise<ChatResponse> {
  const attempts = model.managesRetries === true ? 1 : context.retry.attempts;
  for (let attempt = 1; ; attempt++) {
    let stream: AsyncIterator<ChatStreamPart> | undefined;
    try {
      let response: ChatResponse;
      if (context.stream) {
        stream = model.stream(request)[Symbol.asyncIterator]();
        // One race for the whole stream (not one per part): a stream that stops yielding is
        // abandoned when the turn is aborted.
        response = await context.turn.race(readStream(stream, model, context), `stream from model "${model.name}"`);
      } else {
        response = await context.turn.race(model.generate(request), `call to model "${model.name}"`);
      }
      if (!response?.message) {
        throw new AgentrixError(
          'MODEL_RESPONSE_INVALID',
          `Model "${model.name}" returned a response without a message`,
          {
            retryable: true,
          },
        );
      }
      return response;
    } catch (thrown) {
      if (context.turn.aborted) {
        // Ends the provider's stream (closes the connection); detached: a stuck stream may never acknowledge.
        if (stream !== undefined) Promise.resolve(stream.return?.()).catch(() => {});
        throw thrown;
      }
      const error = toAgentrixError(thrown, 'MODEL_ERROR', { retryable: true });
      if (!error.isRetryable || attempt >= attempts) throw error;
      const delayMs = error.retryAfterMs ?? backoffDelay(attempt, context.retry);
      const serialized = serializeError(error, { secrets: context.secrets });
      if (context.events?.has('model.retry')) {
        context.events.emit('model.retry', {
          agentId: context.agentId,
          turnId: context.turnId,
          step: context.step,
          attempt,
          delayMs,
          error: serialized,
        });
      }
      context.logger?.warn(
        {
          agentId: context.agentId,
          turnId: context.turnId,
          step: context.step,
          attempt,
          delayMs,
          code: error.code,
          error: serialized,
        },
        'model call failed; retrying',
      );
      // Awaited: this wait keeps the process alive (a plain script must not exit in it).
      await sleep(delayMs, { clock: context.clock, signal: context.turn.signal });
    }
  }
}

async function readStream(
  iterator: AsyncIterator<ChatStreamPart>,
  model: ChatModel,
  context: ModelCallContext,
): Promise<ChatResponse> {
  const events = context.events?.has('model.token') ? context.events : undefined;
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    const part = next.value;
    if (part.type === 'finish') {
      // Let the model finish its own bookkeeping (the gateway settles the budget and writes the
      // ledger when its stream ends) before the turn goes on.
      await iterator.return?.();
      return part.response;
    }
    if (part.type === 'text-delta' && events) {
      events.emit('model.token', {
        agentId: context.agentId,
        threadId: context.threadId,
        turnId: context.turnId,
        step: context.step,
        text: part.text,
      });
    }
  }
  throw new AgentrixError(
    'MODEL_RESPONSE_INVALID',
    `The stream from model "${model.name}" ended without a finish part`,
    {
      retryable: true,
    },
  );
}
