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
 * Not raced against the turn's abort here: the turn as a whole is (`runTurn`, and the runtime's
 * turn deadline), so a model that ignores its signal and never settles still ends the turn, and
 * its late answer is dropped (`runTurnUnder` checks the abort after each call). A race per call
 * and an `async` stream reader each cost a promise, closures and a frame per call (about 1.5 KB
 * of an ask's garbage, bench/runtime section 4). A stream still open when the turn aborts is
 * closed by the turn (`TurnSignal.closeOnAbort`): that ends the provider's connection.
 */
export async function callModel(
  model: ChatModel,
  request: ChatRequest,
  context: ModelCallContext,
): Promise<ChatResponse> {
  const attempts = model.managesRetries === true ? 1 : context.retry.attempts;
  const turn = context.turn;
  for (let attempt = 1; ; attempt++) {
    let stream: AsyncIterator<ChatStreamPart> | undefined;
    try {
      let response: ChatResponse | undefined;
      if (context.stream) {
        stream = model.stream(request)[Symbol.asyncIterator]();
        turn.closeOnAbort(stream);
        const events = context.events?.has('model.token') ? context.events : undefined;
        for (;;) {
          const next = await stream.next();
          if (next.done) break;
          const part = next.value;
          if (part.type === 'finish') {
            // Let the model finish its own bookkeeping (the gateway settles the budget and writes the
            // ledger when its stream ends) before the turn goes on.
            await stream.return?.();
            response = part.response;
            break;
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
        turn.streamEnded(stream);
        if (response === undefined) {
          throw new AgentrixError(
            'MODEL_RESPONSE_INVALID',
            `The stream from model "${model.name}" ended without a finish part`,
            { retryable: true },
          );
        }
      } else {
        response = await model.generate(request);
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
      if (stream !== undefined) turn.streamEnded(stream);
      // The abort closed the stream, if one was open.
      if (turn.aborted) throw thrown;
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
