import {
  type AbortWatcher,
  abortError,
  type Clock,
  type Delivery,
  type TimerHandle,
  unwatchAbort,
  watchAbort,
} from '@agentrix/core';

/** Longest delay a timer takes; longer `blockMs` waits use no timer. */
const MAX_TIMER_MS = 2_147_483_647;

/** The part of a blocked `read` that every bus keeps the same way: kept small, thousands may wait. */
export interface BlockedRead {
  readonly resolve: (deliveries: Delivery[]) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
  /** The `blockMs` timer, when the read has a finite one. */
  timer: TimerHandle | undefined;
  hasTimer: boolean;
  onAbort: (() => void) | undefined;
}

/**
 * Starts the `blockMs` timer (it resolves the read with `[]`) and the abort listener (it rejects
 * with ABORTED). Both first call `remove`, which takes the read out of its inbox and says whether
 * it was still waiting, so a read is settled once.
 */
export function armBlockedRead(
  waiter: BlockedRead,
  clock: Clock,
  blockMs: number | undefined,
  remove: () => boolean,
): void {
  if (blockMs !== undefined && blockMs <= MAX_TIMER_MS) {
    waiter.timer = clock.setTimeout(() => {
      waiter.hasTimer = false;
      waiter.timer = undefined;
      if (remove()) settleBlockedRead(waiter, clock, []);
    }, blockMs);
    waiter.hasTimer = true;
  }
  const signal = waiter.signal;
  if (signal !== undefined) {
    waiter.onAbort = () => {
      waiter.onAbort = undefined;
      if (!remove()) return;
      clearBlockedReadTimer(waiter, clock);
      waiter.reject(abortError(signal, 'read'));
    };
    // One listener per signal for all its reads (an agent's read loop waits on one signal).
    watchAbort(signal, waiter as AbortWatcher);
  }
}

export function clearBlockedReadTimer(waiter: BlockedRead, clock: Clock): void {
  if (!waiter.hasTimer) return;
  waiter.hasTimer = false;
  clock.clearTimeout(waiter.timer);
  waiter.timer = undefined;
}

/** Resolves a read already taken out of its inbox, dropping its timer and abort listener. */
export function settleBlockedRead(waiter: BlockedRead, clock: Clock, deliveries: Delivery[]): void {
  clearBlockedReadTimer(waiter, clock);
  if (waiter.onAbort !== undefined) {
    if (waiter.signal !== undefined) unwatchAbort(waiter.signal, waiter as AbortWatcher);
    waiter.onAbort = undefined;
  }
  waiter.resolve(deliveries);
}
