import {
  AgentrixError,
  type AgentrixEvents,
  backoffDelay,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type Clock,
  type RetryPolicy,
  serializeError,
  sleep,
  toAgentrixError,
} from '@agentrix/core';

export interface ModelCallContext {
  agentId: string;
  turnId: string;
  step: number;
  stream: boolean;
  retry: RetryPolicy;
  clock: Clock;
  events: AgentrixEvents | undefined;
  signal: AbortSignal | undefined;
}

/**
 * One model call with retries: retryable failures (network, 5xx, rate limits, a stream that
 * ends without its finish part) are retried with exponential backoff, honouring a provider's
 * `retryAfterMs`; anything else, or the last attempt, throws.
 */
export async function callModel(
  model: ChatModel,
  request: ChatRequest,
  context: ModelCallContext,
): Promise<ChatResponse> {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = context.stream ? await consumeStream(model, request, context) : await model.generate(request);
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
      if (context.signal?.aborted) throw thrown;
      const error = toAgentrixError(thrown, 'MODEL_ERROR', { retryable: true });
      if (!error.isRetryable || attempt >= context.retry.attempts) throw error;
      const delayMs = error.retryAfterMs ?? backoffDelay(attempt, context.retry);
      if (context.events?.has('model.retry')) {
        context.events.emit('model.retry', {
          agentId: context.agentId,
          turnId: context.turnId,
          step: context.step,
          attempt,
          delayMs,
          error: serializeError(error),
        });
      }
      await sleep(delayMs, { clock: context.clock, ...(context.signal ? { signal: context.signal } : {}) });
    }
  }
}

async function consumeStream(model: ChatModel, request: ChatRequest, context: ModelCallContext): Promise<ChatResponse> {
  const events = context.events?.has('model.token') ? context.events : undefined;
  for await (const part of model.stream(request)) {
    if (part.type === 'finish') return part.response;
    if (part.type === 'text-delta' && events) {
      events.emit('model.token', {
        agentId: context.agentId,
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
