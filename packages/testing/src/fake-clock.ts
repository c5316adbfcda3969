import { AgentrixError, type Clock, type TimerHandle } from '@agentrix/core';

/** Captured at load so a later `vi.useFakeTimers()` cannot stall {@link FakeClock.advance}. */
const realSetImmediate: (callback: () => void) => unknown =
  typeof globalThis.setImmediate === 'function'
    ? globalThis.setImmediate.bind(globalThis)
    : (callback) => globalThis.setTimeout(callback, 0);

/** Lets every pending promise chain run: a macrotask turn runs only after the microtask queue is empty. */
function settle(): Promise<void> {
  return new Promise((resolve) => {
    realSetImmediate(resolve);
  });
}

class FakeTimer {
  constructor(
    readonly due: number,
    readonly sequence: number,
    readonly callback: () => void,
  ) {}
}

/**
 * A {@link Clock} whose time moves only when a test says so. Inject it into anything that takes a
 * `clock` option (runtime, bus, scheduler, gateway, `sleep`) and drive time with `advance(ms)` or
 * `runAll()` instead of waiting for real timers.
 *
 * ```ts
 * const clock = new FakeClock(Date.parse('2025-01-01T00:00:00Z'));
 * const done = sleep(5_000, { clock });
 * await clock.advance(5_000); // `done` resolves, no real waiting
 * ```
 */
export class FakeClock implements Clock {
  #now: number;
  #sequence = 0;
  /** Ordered by due time, then by insertion order. */
  #timers: FakeTimer[] = [];

  /** @param start the initial time in milliseconds since the epoch. Default `0`. */
  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer = new FakeTimer(this.#now + delay, this.#sequence++, callback);
    // insert after every timer due at or before this one, so equal due times keep insertion order
    let low = 0;
    let high = this.#timers.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#timers[middle]!.due <= timer.due) low = middle + 1;
      else high = middle;
    }
    this.#timers.splice(low, 0, timer);
    return timer;
  }

  /** Cancels a timer; a handle that already fired, was cleared, or is not from this clock is ignored. */
  clearTimeout(handle: TimerHandle): void {
    if (!(handle instanceof FakeTimer)) return;
    const index = this.#timers.indexOf(handle);
    if (index !== -1) this.#timers.splice(index, 1);
  }

  /** How many timers are waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** When the next timer is due, or `undefined` when none is pending. */
  get nextTimerAt(): number | undefined {
    return this.#timers[0]?.due;
  }

  /**
   * Jumps to `time` without firing timers (like changing the system clock). Timers already due
   * fire at the next `advance` or `runAll`.
   */
  set(time: number): void {
    if (!Number.isFinite(time)) {
      throw new AgentrixError('INVALID_ARGUMENT', `FakeClock.set expects a finite number of milliseconds, got ${time}`);
    }
    this.#now = time;
  }

  /**
   * Moves time forward by `ms`, firing each timer due within the window at its due time (`now()`
   * returns the due time inside the callback), in order. Between timers it lets pending promise
   * chains run, so a timer whose callback starts async work that schedules another timer within
   * the window sees that timer fire too. When it resolves, `now()` is the end of the window. A callback
   * that throws rejects the call, leaving time at that timer's due time and later timers pending.
   */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `FakeClock.advance expects a finite number of milliseconds >= 0, got ${ms}; use set(time) to move time back`,
      );
    }
    const target = this.#now + ms;
    await settle();
    for (;;) {
      const timer = this.#timers[0];
      if (timer === undefined || timer.due > target) break;
      this.#fire(timer);
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /**
   * Fires every pending timer, including ones scheduled while running, advancing time to each due
   * time. Throws after firing `limit` timers when timers are still pending (a timer that keeps
   * rescheduling itself would otherwise loop forever).
   */
  async runAll(limit = 10_000): Promise<void> {
    await settle();
    let fired = 0;
    for (;;) {
      const timer = this.#timers[0];
      if (timer === undefined) return;
      if (fired >= limit) {
        throw new AgentrixError(
          'INTERNAL',
          `FakeClock.runAll fired ${limit} timers and ${this.#timers.length} are still pending: a timer probably reschedules itself forever (an interval, a polling or retry loop). Use advance(ms) to move time by a bounded amount, or pass a higher limit.`,
          { details: { limit, pendingTimers: this.#timers.length, now: this.#now } },
        );
      }
      this.#fire(timer);
      fired++;
      await settle();
    }
  }

  #fire(timer: FakeTimer): void {
    this.#timers.shift();
    if (timer.due > this.#now) this.#now = timer.due;
    timer.callback();
  }
}
