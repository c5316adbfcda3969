import { sleep } from '@agentrix/core';
import { chargedUsage, type GatewayContext, type Layer } from './call.js';
import type { RateLimitInput } from './gateway-options.js';
import { rateLimitedError, TokenBucket } from './rate-limiter.js';
import { describeScope, scopeKey } from './scopes.js';

interface PreparedLimit {
  id: string;
  scope: RateLimitInput['scope'];
  callsPerMinute: number | undefined;
  tokensPerMinute: number | undefined;
  maxWaitMs: number;
}

/**
 * The rate limit layer: calls per minute and tokens per minute per scope, as token buckets in
 * this process. A call takes its worst-case tokens up front and gives back what it did not use;
 * it waits up to `maxWaitMs` for room, else fails with RATE_LIMITED and `retryAfterMs`.
 */
export function rateLimitLayer(context: GatewayContext, limits: readonly RateLimitInput[]): Layer {
  const prepared: PreparedLimit[] = limits.map((limit) => ({
    id: limit.id ?? `${describeScope(limit.scope)}:rate`,
    scope: limit.scope,
    callsPerMinute: limit.callsPerMinute,
    tokensPerMinute: limit.tokensPerMinute,
    maxWaitMs: limit.maxWaitMs ?? 0,
  }));
  const buckets = new Map<string, TokenBucket>();
  const bucket = (key: string, perMinute: number, now: number) => {
    let found = buckets.get(key);
    if (!found) {
      found = new TokenBucket(perMinute, now);
      buckets.set(key, found);
    }
    return found;
  };
  const { events, clock } = context;

  return async function* rateLimit(call, next) {
    if (prepared.length === 0) {
      yield* next(call);
      return;
    }
    const now = clock.now();
    const tokens = call.promptTokens + call.maxOutputTokens;
    const applicable: { limit: PreparedLimit; id: string; calls?: TokenBucket; tokens?: TokenBucket }[] = [];
    let wait = 0;
    let worst: { id: string; maxWaitMs: number; wait: number } | undefined;
    for (const limit of prepared) {
      const part = scopeKey(limit.scope, call.scope);
      if (part === undefined) continue;
      const id = part === '' ? limit.id : `${limit.id}[${part}]`;
      const entry: (typeof applicable)[number] = { limit, id };
      let limitWait = 0;
      if (limit.callsPerMinute !== undefined) {
        entry.calls = bucket(`${id}:calls`, limit.callsPerMinute, now);
        limitWait = Math.max(limitWait, entry.calls.waitFor(1, now));
      }
      if (limit.tokensPerMinute !== undefined) {
        entry.tokens = bucket(`${id}:tokens`, limit.tokensPerMinute, now);
        limitWait = Math.max(limitWait, entry.tokens.waitFor(tokens, now));
      }
      if (limitWait > limit.maxWaitMs && (!worst || limitWait - limit.maxWaitMs > worst.wait - worst.maxWaitMs)) {
        worst = { id, maxWaitMs: limit.maxWaitMs, wait: limitWait };
      }
      wait = Math.max(wait, limitWait);
      applicable.push(entry);
    }
    if (worst) {
      if (events.has('rate.limited')) {
        events.emit('rate.limited', {
          callId: call.id,
          scope: call.scope,
          limit: worst.id,
          waitMs: worst.wait,
          waited: false,
        });
      }
      throw rateLimitedError(worst.id, worst.wait, worst.maxWaitMs);
    }
    for (const entry of applicable) {
      entry.calls?.take(1, now);
      entry.tokens?.take(tokens, now);
    }
    if (wait > 0) {
      if (events.has('rate.limited')) {
        const id = applicable.map((entry) => entry.id).join(',');
        events.emit('rate.limited', { callId: call.id, scope: call.scope, limit: id, waitMs: wait, waited: true });
      }
      await sleep(wait, { clock, ...(call.request.signal ? { signal: call.request.signal } : {}) });
    }
    try {
      yield* next(call);
    } finally {
      const usage = chargedUsage(call);
      const unused = tokens - (usage.inputTokens + usage.outputTokens);
      if (unused > 0) for (const entry of applicable) entry.tokens?.refund(unused, clock.now());
    }
  };
}
