/** Opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** How a timer relates to the life of the process. */
export interface TimerOptions {
  /**
   * A background timer (a heartbeat, a sweep, an idle unsubscribe, a cron tick) does not keep the
   * process alive: on the system clock it is `unref`ed. Leave it unset for any timer that
   * something awaits (a retry wait, a deadline, a backoff): that timer must keep Node running,
   * or a plain script exits in the middle of the call. Default false.
   */
  background?: boolean;
}

/** Options of a background timer: `clock.setTimeout(callback, ms, BACKGROUND_TIMER)`. */
export const BACKGROUND_TIMER: TimerOptions = Object.freeze({ background: true });

/**
 * Time as an injected dependency, so tests can run with a fake clock
 * (`FakeClock` in `@agentrix/testing`). Nothing in Agentrix reads `Date.now()` directly.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number, options?: TimerOptions): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock. A timer keeps the process alive (something awaits it) unless it is created
 * with `{ background: true }`, which `unref`s it.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms, options) {
    const handle = setTimeout(callback, ms);
    if (options?.background === true) (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
