import { sleep } from '@agentrix/core';
import { chargedUsage, type GatewayCall, type GatewayContext, type Layer } from './call.js';
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

/** The buckets a call takes from under one limit, named as its events and errors name it. */
interface AppliedLimit {
  limit: PreparedLimit;
  id: string;
  calls?: TokenBucket;
  tokens?: TokenBucket;
}

/** What the limits say about a call: the buckets it takes from, its wait, and the limit it may not wait for. */
interface LimitCheck {
  applied: AppliedLimit[];
  wait: number;
  /** The limit whose wait overshoots its `maxWaitMs` the most, when any does. */
  worst: { id: string; maxWaitMs: number; wait: number } | undefined;
}

/**
 * The rate limit layer: calls per minute and tokens per minute per scope, as token buckets in
 * this process. A call takes its worst-case tokens up front and gives back what it did not use;
 * it waits up to `maxWaitMs` for room, else fails with RATE_LIMITED and `retryAfterMs`.
 */
export function rateLimitLayer(context: GatewayContext, limits: readonly RateLimitInput[]): Layer {
  const prepared = limits.map(prepareLimit);
  const buckets = new Map<string, TokenBucket>();
  const { events, clock } = context;

  return async function* rateLimit(call, next) {
    if (prepared.length === 0) {
      yield* next(call);
      return;
    }
    const now = clock.now();
    const tokens = call.promptTokens + call.maxOutputTokens;
    const { applied, wait, worst } = checkLimits(prepared, buckets, call, tokens, now);
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
    for (const entry of applied) {
      entry.calls?.take(1, now);
      entry.tokens?.take(tokens, now);
    }
    if (wait > 0) {
      if (events.has('rate.limited')) {
        const id = applied.map((entry) => entry.id).join(',');
        events.emit('rate.limited', { callId: call.id, scope: call.scope, limit: id, waitMs: wait, waited: true });
      }
      await sleep(wait, { clock, ...(call.request.signal ? { signal: call.request.signal } : {}) });
    }
    try {
      yield* next(call);
    } finally {
      const usage = chargedUsage(call);
      const unused = tokens - (usage.inputTokens + usage.outputTokens);
      if (unused > 0) for (const entry of applied) entry.tokens?.refund(unused, clock.now());
    }
  };
}

function prepareLimit(limit: RateLimitInput): PreparedLimit {
  return {
    id: limit.id ?? `${describeScope(limit.scope)}:rate`,
    scope: limit.scope,
    callsPerMinute: limit.callsPerMinute,
    tokensPerMinute: limit.tokensPerMinute,
    maxWaitMs: limit.maxWaitMs ?? 0,
  };
}

/** Reads (without taking) every bucket of the limits that apply to the call's scope. */
function checkLimits(
  prepared: readonly PreparedLimit[],
  buckets: Map<string, TokenBucket>,
  call: GatewayCall,
  tokens: number,
  now: number,
): LimitCheck {
  const check: LimitCheck = { applied: [], wait: 0, worst: undefined };
  for (const limit of prepared) {
    const part = scopeKey(limit.scope, call.scope);
    if (part === undefined) continue;
    const id = part === '' ? limit.id : `${limit.id}[${part}]`;
    const entry: AppliedLimit = { limit, id };
    let limitWait = 0;
    if (limit.callsPerMinute !== undefined) {
      entry.calls = bucket(buckets, `${id}:calls`, limit.callsPerMinute, now);
      limitWait = Math.max(limitWait, entry.calls.waitFor(1, now));
    }
    if (limit.tokensPerMinute !== undefined) {
      entry.tokens = bucket(buckets, `${id}:tokens`, limit.tokensPerMinute, now);
      limitWait = Math.max(limitWait, entry.tokens.waitFor(tokens, now));
    }
    const worst = check.worst;
    if (limitWait > limit.maxWaitMs && (!worst || limitWait - limit.maxWaitMs > worst.wait - worst.maxWaitMs)) {
      check.worst = { id, maxWaitMs: limit.maxWaitMs, wait: limitWait };
    }
    check.wait = Math.max(check.wait, limitWait);
    check.applied.push(entry);
  }
  return check;
}

function bucket(buckets: Map<string, TokenBucket>, key: string, perMinute: number, now: number): TokenBucket {
  let found = buckets.get(key);
  if (!found) {
    found = new TokenBucket(perMinute, now);
    buckets.set(key, found);
  }
  return found;
}
