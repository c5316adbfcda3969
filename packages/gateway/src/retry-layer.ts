import { backoffDelay, serializeError, sleep, toAgentrixError } from '@agentrix/core';
import type { GatewayContext, Layer } from './call.js';

/**
 * The retry and fallback layer. A retryable failure before any output reached the caller is
 * retried: a provider 429 first moves the call to the next smaller tier (when there is one and
 * `degradation.fallbackOnRateLimit` is on), else waits its `retry-after` (up to
 * `retry.maxRetryAfterMs`); other failures wait an exponential backoff. Failures after output
 * started go up as they are: the caller has already seen part of the answer.
 */
export function retryLayer(context: GatewayContext): Layer {
  const { config, events, clock } = context;
  const policy = config.retry;
  return async function* retry(call, next) {
    for (let attempt = 1; ; attempt++) {
      let yielded = false;
      try {
        for await (const part of next(call)) {
          yielded = true;
          yield part;
        }
        return;
      } catch (thrown) {
        if (call.request.signal?.aborted || yielded) throw thrown;
        const error = toAgentrixError(thrown, 'MODEL_ERROR');
        if (!error.isRetryable || attempt >= policy.attempts) throw error;
        let delayMs: number;
        if (error.code === 'RATE_LIMITED') {
          const smaller = call.tier === undefined ? undefined : call.ladder[call.ladder.indexOf(call.tier) + 1];
          if (smaller !== undefined && config.degradation.fallbackOnRateLimit) {
            const from = call.tier!;
            const model = context.tiers[smaller]!;
            call.tier = smaller;
            call.model = model;
            call.info = context.models[model]!;
            call.maxOutputTokens = Math.min(call.maxOutputTokens, call.info.maxOutputTokens);
            call.degradedFrom = call.requested;
            call.degradation = 'smaller-tier';
            call.modelChanged = true;
            if (events.has('gateway.degraded')) {
              events.emit('gateway.degraded', {
                callId: call.id,
                scope: call.scope,
                step: 'smaller-tier',
                reason: 'rate-limited',
                from,
                to: smaller,
              });
            }
            delayMs = 0;
          } else {
            delayMs = error.retryAfterMs ?? backoffDelay(attempt, policy);
            if (delayMs > policy.maxRetryAfterMs) throw error;
          }
          if (events.has('rate.limited')) {
            events.emit('rate.limited', {
              callId: call.id,
              scope: call.scope,
              limit: 'provider',
              waitMs: delayMs,
              waited: true,
            });
          }
        } else {
          delayMs = backoffDelay(attempt, policy);
        }
        if (events.has('model.retry')) {
          events.emit('model.retry', {
            callId: call.id,
            model: call.model,
            attempt,
            delayMs,
            error: serializeError(error),
          });
        }
        if (delayMs > 0) {
          await sleep(delayMs, { clock, ...(call.request.signal ? { signal: call.request.signal } : {}) });
        }
      }
    }
  };
}
