/**
 * The parts of one model call that the step loop (`runTurnUnder`) puts together: open the
 * stream, read its parts, check the answer, and decide after a failed attempt whether to retry.
 * The loop reads the stream itself: an `async` function per model call was a frame, a promise
 * and a resume more per step (bench/runtime section 4: 0.3-0.5 µs an ask, two calls an ask).
 *
 * Retryable failures (network, 5xx, rate limits, a stream that ends without its finish part)
 * are retried with exponential backoff, honouring a provider's `retryAfterMs`; anything else, or
 * the last attempt, throws. A model that retries by itself (`managesRetries`, the gateway) gets
 * one attempt: exactly one layer retries.
 *
 * Not raced against the turn's abort here: the turn as a whole is (`runTurn`, and the runtime's
 * turn deadline), so a model that ignores its signal and never settles still ends the turn, and
 * its late answer is dropped (`runTurnUnder` checks the abort after each call). A stream still
 * open when the turn aborts is closed by the turn (`TurnSignal.closeOnAbort`): that ends the
 * provider's connection.
 */
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
  retry: RetryPolicy;
  clock: Clock;
  events: AgentrixEvents | undefined;
  /** The turn's abort: it bounds the call even when the model ignores its signal. */
  turn: TurnSignal;
  logger?: Logger | undefined;
  /** Host secrets removed from the retry's event and log line. */
  secrets?: readonly string[] | undefined;
}

/** The model's stream for `request`, closed by the turn if it aborts before the stream ends. */
export function openModelStream(
  model: ChatModel,
  request: ChatRequest,
  context: ModelCallContext,
): AsyncIterator<ChatStreamPart> {
  const stream = model.stream(request)[Symbol.asyncIterator]();
  context.turn.closeOnAbort(stream);
  return stream;
}

/**
 * One part of the stream: the response when it is the finish part, else `undefined` (a text
 * delta is a `model.token` event when `tokens`, the events read at the call's start, is given).
 */
export function streamPart(
  part: ChatStreamPart,
  context: ModelCallContext,
  tokens: AgentrixEvents | undefined,
): ChatResponse | undefined {
  if (part.type === 'finish') return part.response;
  if (part.type === 'text-delta' && tokens !== undefined) {
    tokens.emit('model.token', {
      agentId: context.agentId,
      threadId: context.threadId,
      turnId: context.turnId,
      step: context.step,
      text: part.text,
    });
  }
  return undefined;
}

/** `response` when it carries a message; else a retryable `MODEL_RESPONSE_INVALID`. */
export function checkedResponse(model: ChatModel, response: ChatResponse | undefined, streamed: boolean): ChatResponse {
  if (response === undefined && streamed) {
    throw new AgentrixError(
      'MODEL_RESPONSE_INVALID',
      `The stream from model "${model.name}" ended without a finish part`,
      { retryable: true },
    );
  }
  if (!response?.message) {
    throw new AgentrixError('MODEL_RESPONSE_INVALID', `Model "${model.name}" returned a response without a message`, {
      retryable: true,
    });
  }
  return response;
}

/**
 * After attempt `attempt` failed with `thrown`: throws when the call is not retried (the turn
 * aborted, the error is not retryable, or it was the last attempt); else reports the retry
 * (`model.retry`, a log line) and waits out its backoff.
 */
export async function retryModelCall(
  model: ChatModel,
  thrown: unknown,
  attempt: number,
  context: ModelCallContext,
): Promise<void> {
  // The abort closed the stream, if one was open.
  if (context.turn.aborted) throw thrown;
  const attempts = model.managesRetries === true ? 1 : context.retry.attempts;
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
