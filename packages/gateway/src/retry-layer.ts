import { type AgentrixError, backoffDelay, serializeError, sleep, toAgentrixError } from '@agentrix/core';
import { chargedUsage, type GatewayCall, type GatewayContext, type Layer, resetAttempt } from './call.js';
import { reportDegradation, switchModel } from './degradation.js';
import { appendLedgerRecord, ledgerRecord } from './metering-layer.js';
import { modelChoice } from './route.js';

/**
 * The retry and fallback layer. A retryable failure before any output reached the caller is
 * retried: a provider 429 first moves the call to the next smaller tier (when there is one and
 * `degradation.fallbackOnRateLimit` is on), else waits its `retry-after` (up to
 * `retry.maxRetryAfterMs`); other failures wait an exponential backoff. Failures after output
 * started go up as they are: the caller has already seen part of the answer.
 *
 * An attempt that reached the provider and is retried is metered and charged on its own (a
 * ledger record `<callId>/<attempt>`, its usage settled to the budgets, which are reserved again
 * for the next attempt): a malformed answer is billed by the provider like any other.
 *
 * The wait is an ordinary (ref'd) timer: a script awaiting the call stays alive through it.
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
        const fallback = error.code === 'RATE_LIMITED' ? smallerTier(context, call) : undefined;
        let delayMs: number;
        if (fallback !== undefined) delayMs = 0;
        else if (error.code === 'RATE_LIMITED') {
          delayMs = error.retryAfterMs ?? backoffDelay(attempt, policy);
          if (delayMs > policy.maxRetryAfterMs) throw error;
        } else delayMs = backoffDelay(attempt, policy);

        await endAttempt(context, call, attempt, error);
        if (fallback !== undefined) moveToTier(context, call, fallback);
        if (error.code === 'RATE_LIMITED' && events.has('rate.limited')) {
          events.emit('rate.limited', {
            callId: call.id,
            scope: call.scope,
            limit: 'provider',
            waitMs: delayMs,
            waited: true,
          });
        }
        context.logger?.warn(
          { callId: call.id, model: call.model, attempt, delayMs, code: error.code },
          'gateway: retrying a model call',
        );
        if (events.has('gateway.retry')) {
          events.emit('gateway.retry', {
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

/**
 * Closes an attempt about to be retried. One that reached the provider gets its own ledger record
 * and its usage charged (`call.chargeAttempt` throws `BUDGET_EXCEEDED` when the budgets cannot
 * take another attempt); then the call forgets it.
 */
async function endAttempt(
  context: GatewayContext,
  call: GatewayCall,
  attempt: number,
  error: AgentrixError,
): Promise<void> {
  if (!call.sent) return;
  const usage = chargedUsage(call);
  appendLedgerRecord(context, ledgerRecord(context, call, usage, error, `${call.id}/${attempt}`), call.id);
  resetAttempt(call);
  await call.chargeAttempt?.(usage, error);
}

/** The next smaller tier for a rate-limited call, when falling back is on and there is one. */
function smallerTier(context: GatewayContext, call: GatewayCall): string | undefined {
  if (!context.config.degradation.fallbackOnRateLimit || call.tier === undefined) return undefined;
  return call.ladder[call.ladder.indexOf(call.tier) + 1];
}

function moveToTier(context: GatewayContext, call: GatewayCall, tier: string): void {
  const from = call.tier!;
  const choice = modelChoice(context, call, tier);
  // The call keeps its output cap, lowered to what the smaller model allows.
  switchModel(
    call,
    { ...choice, maxOutputTokens: Math.min(call.maxOutputTokens, choice.info.maxOutputTokens) },
    'smaller-tier',
  );
  reportDegradation(context, call, 'smaller-tier', 'rate-limited', from, tier);
}
