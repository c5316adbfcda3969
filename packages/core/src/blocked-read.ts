import { type AbortWatcher, abortError, unwatchAbort, watchAbort } from './async.js';
import type { Clock, TimerHandle } from './clock.js';
import type { Delivery } from './message-bus.js';

/** Longest delay a timer takes; longer `blockMs` waits use no timer. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The part of a blocked `read` that every bus keeps the same way (InMemoryBus, RedisStreamsBus,
 * SqlMessageBus): kept small, thousands may wait.
 * A read allocates no closure of its own for its abort handling: `leave` is one function per bus,
 * and `onAbort` one function for all reads (called with the read as `this`). A closure per read
 * that the signal's watcher list can reach kept young objects alive long enough to be promoted,
 * which made every young-generation GC pause several times longer (bench/bus wake latency).
 */
export interface BlockedRead {
  readonly resolve: (deliveries: Delivery[]) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  /** The `blockMs` timer, when the read has a finite one. */
  timer: TimerHandle | undefined;
  hasTimer: boolean;
  /** Set while the read watches its signal. */
  onAbort: ((this: BlockedRead) => void) | undefined;
  /** Takes the read out of its inbox; false when it was not waiting any more. Set by {@link armBlockedRead}. */
  leave: ((read: never) => boolean) | undefined;
  clock: Clock | undefined;
}

/**
 * Starts the `blockMs` timer (it resolves the read with `[]`) and watches the signal (it rejects
 * with ABORTED). Both first call `leave(waiter)`, which takes the read out of its inbox and says
 * whether it was still waiting, so a read is settled once.
 */
export function armBlockedRead<T extends BlockedRead>(
  waiter: T,
  clock: Clock,
  blockMs: number | undefined,
  leave: (read: T) => boolean,
): void {
  waiter.leave = leave as (read: never) => boolean;
  waiter.clock = clock;
  if (blockMs !== undefined && blockMs <= MAX_TIMER_MS) {
    waiter.timer = clock.setTimeout(() => {
      waiter.hasTimer = false;
      waiter.timer = undefined;
      if (leave(waiter)) settleBlockedRead(waiter, clock, []);
    }, blockMs);
    waiter.hasTimer = true;
  }
  const signal = waiter.signal;
  if (signal !== undefined) {
    waiter.onAbort = abortBlockedRead;
    // One listener per signal for all its reads (an agent's read loop waits on one signal).
    watchAbort(signal, waiter as AbortWatcher);
  }
}

function abortBlockedRead(this: BlockedRead): void {
  this.onAbort = undefined;
  if (!(this.leave as (read: BlockedRead) => boolean)(this)) return;
  clearBlockedReadTimer(this, this.clock as Clock);
  this.reject(abortError(this.signal as AbortSignal, 'read'));
}

export function clearBlockedReadTimer(waiter: BlockedRead, clock: Clock): void {
  if (!waiter.hasTimer) return;
  waiter.hasTimer = false;
  clock.clearTimeout(waiter.timer);
  waiter.timer = undefined;
}

/** Resolves a read already taken out of its inbox, dropping its timer and its watch on the signal. */
export function settleBlockedRead(waiter: BlockedRead, clock: Clock, deliveries: Delivery[]): void {
  clearBlockedReadTimer(waiter, clock);
  if (waiter.onAbort !== undefined) {
    if (waiter.signal !== undefined) unwatchAbort(waiter.signal, waiter as AbortWatcher);
    waiter.onAbort = undefined;
  }
  waiter.resolve(deliveries);
}
