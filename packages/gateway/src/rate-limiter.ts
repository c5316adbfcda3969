import { AgentrixError } from '@agentrix/core';

/**
 * A token bucket that lets callers borrow ahead: `take(n)` always succeeds when the wait it
 * implies is within `maxWaitMs`, and returns how long the caller must wait. Waiters are served
 * in arrival order because each one takes its tokens (going negative) before it waits.
 */
export class TokenBucket {
  readonly capacity: number;
  readonly #perMs: number;
  #tokens: number;
  #updatedAt: number;

  /** `perMinute` tokens refill over a minute; the bucket starts full. */
  constructor(perMinute: number, now: number) {
    this.capacity = perMinute;
    this.#perMs = perMinute / 60_000;
    this.#tokens = perMinute;
    this.#updatedAt = now;
  }

  /** The wait for `amount` tokens, without taking them. */
  waitFor(amount: number, now: number): number {
    this.#refill(now);
    const needed = Math.min(amount, this.capacity);
    return this.#tokens >= needed ? 0 : Math.ceil((needed - this.#tokens) / this.#perMs);
  }

  /** Takes `amount` tokens (at most the capacity) and returns the wait it implies. */
  take(amount: number, now: number): number {
    const wait = this.waitFor(amount, now);
    this.#tokens -= Math.min(amount, this.capacity);
    return wait;
  }

  /** Gives back tokens taken but not used (never above the capacity). */
  refund(amount: number, now: number): void {
    this.#refill(now);
    this.#tokens = Math.min(this.capacity, this.#tokens + amount);
  }

  #refill(now: number): void {
    const elapsed = now - this.#updatedAt;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.capacity, this.#tokens + elapsed * this.#perMs);
      this.#updatedAt = now;
    }
  }
}

/** The error for a call that would wait longer than allowed. */
export function rateLimitedError(limit: string, waitMs: number, maxWaitMs: number): AgentrixError {
  return new AgentrixError(
    'RATE_LIMITED',
    `Rate limit "${limit}" is used up: the call would wait ${waitMs} ms, more than the ${maxWaitMs} ms allowed; retry later or raise the limit`,
    { retryAfterMs: waitMs, details: { limit, waitMs, maxWaitMs } },
  );
}
