import { BACKGROUND_TIMER, type Clock, type TimerHandle } from '@agentrix/core';

/** Longest delay a platform timer takes. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The one timer a bus keeps per inbox while readers wait there: it fires at the earliest lease
 * end it knows of (or when a failed read is retried) so that expired leases are redelivered
 * without polling. A background timer: it never keeps the process alive.
 */
export class InboxTimer {
  readonly #clock: Clock;
  readonly #fire: () => void;
  /** Added to every delay (the SQL bus fires 1 ms after a lease end, so the lease has surely ended by its clock). */
  readonly #lateMs: number;
  #handle: TimerHandle | undefined;
  #armed = false;
  /** When the armed timer fires (clock time). */
  #at = Number.POSITIVE_INFINITY;

  constructor(clock: Clock, fire: () => void, options?: { lateMs?: number }) {
    this.#clock = clock;
    this.#fire = fire;
    this.#lateMs = options?.lateMs ?? 0;
  }

  get armed(): boolean {
    return this.#armed;
  }

  /** Whether it is armed to fire at `at` (clock time) or sooner. */
  armedFor(at: number): boolean {
    return this.#armed && this.#at <= at;
  }

  /** Fires in `delayMs` (replacing an armed timer); a negative delay only disarms. */
  armIn(delayMs: number): void {
    this.clear();
    if (delayMs < 0) return;
    this.#arm(this.#clock.now() + delayMs, delayMs);
  }

  /** Fires at `at` (clock time) unless already armed to fire no later. */
  armAt(at: number): void {
    if (this.armedFor(at)) return;
    this.clear();
    this.#arm(at, Math.max(0, at - this.#clock.now()));
  }

  clear(): void {
    if (!this.#armed) return;
    this.#armed = false;
    this.#clock.clearTimeout(this.#handle);
    this.#handle = undefined;
    this.#at = Number.POSITIVE_INFINITY;
  }

  #arm(at: number, delayMs: number): void {
    this.#at = at;
    this.#armed = true;
    this.#handle = this.#clock.setTimeout(
      this.#onFire,
      Math.min(MAX_TIMER_MS, delayMs + this.#lateMs),
      BACKGROUND_TIMER,
    );
  }

  readonly #onFire = (): void => {
    this.#armed = false;
    this.#handle = undefined;
    this.#at = Number.POSITIVE_INFINITY;
    this.#fire();
  };
}
