import { BACKGROUND_TIMER, type Delivery, type TimerHandle } from '@agentrix/core';
import { settleWaiter } from './implement/blocked-reads.js';
import type { RedisBusContext } from './redis-bus-context.js';
import type { RedisHandoffs } from './redis-handoff.js';
import { quarterLease, type RedisLeaseManager } from './redis-lease-manager.js';
import { type Waiter, type WaitingInbox, waiterOf } from './redis-waiting-inbox.js';

/**
 * How long a message fetched with an ack (or handed off between two reads) waits for its
 * reader's next `read` before it is given back; capped at a quarter of the lease.
 */
const PREFETCH_HOLD_MAX_MS = 200;

/**
 * Deliveries held for a reader loop between two of its reads: fetched by its ack, or handed off
 * while it was handling the last one. Its next `read` takes them without a round trip; a reader
 * that does not come back within the hold time has them given back (attempt counts kept) and its
 * hand-off arm disarmed. One timer for the whole bus sweeps the inboxes holding something.
 */
export class PrefetchCache {
  readonly #context: RedisBusContext;
  readonly #leases: RedisLeaseManager;
  readonly #handoffs: RedisHandoffs;
  readonly #removeWaiter: (box: WaitingInbox, waiter: Waiter) => boolean;
  readonly #holdMs: number;
  /**
   * Boxes holding something for their reader (see `arm`), and the one timer that sweeps them. An
   * array with a mark on each box (`listed`), not a Set: a box would join at every hold and leave
   * at every take (once per message), and a Set whose table fills with added and deleted entries
   * rehashes it into a new one where the old one lives, in old space once any full GC has moved
   * it there: garbage only a mark-compact frees (old-space bytes allocated per message after a
   * full GC, bench/bus/old-space.ts at 20k/s: 99-109 -> 17-19). A cleared box stays listed until
   * the next sweep (one is always due while a box is listed).
   */
  readonly #holding: WaitingInbox[] = [];
  #sweep: TimerHandle | undefined;
  #hasSweep = false;

  constructor(
    context: RedisBusContext,
    leases: RedisLeaseManager,
    handoffs: RedisHandoffs,
    removeWaiter: (box: WaitingInbox, waiter: Waiter) => boolean,
  ) {
    this.#context = context;
    this.#leases = leases;
    this.#handoffs = handoffs;
    this.#removeWaiter = removeWaiter;
    this.#holdMs = quarterLease(context.leaseMs, PREFETCH_HOLD_MAX_MS);
  }

  /** Keeps deliveries for the reader's next read; given back if it does not come in time. */
  hold(box: WaitingInbox, deliveries: Delivery[]): void {
    const context = this.#context;
    if (context.closed) {
      context.track(this.#leases.giveBack(box.keys, box.name, deliveries));
      return;
    }
    if (box.prefetched === undefined) box.prefetched = deliveries;
    else box.prefetched.push(...deliveries);
    // A reader already waiting takes them at once.
    const waiter = waiterOf(box, box.lastConsumer);
    if (waiter !== undefined) {
      this.#removeWaiter(box, waiter);
      settleWaiter(waiter, context.clock, this.take(box, waiter.max));
      return;
    }
    this.arm(box);
  }

  /** Up to `max` of what is held for the box's reader. */
  take(box: WaitingInbox, max: number): Delivery[] {
    const prefetched = box.prefetched ?? [];
    const taken = prefetched.length <= max ? prefetched : prefetched.splice(0, max);
    if (taken === prefetched) box.prefetched = undefined;
    if (box.prefetched === undefined && box.armedFor === undefined) this.clear(box);
    return taken;
  }

  /** Starts the hold time of the box (what it holds, or an arm made by an ack, is given up at its end). */
  arm(box: WaitingInbox): void {
    const context = this.#context;
    if (box.holdUntil !== 0 || context.closed) return;
    box.holdUntil = context.clock.now() + this.#holdMs;
    if (!box.listed) {
      box.listed = true;
      this.#holding.push(box);
    }
    if (!this.#hasSweep) {
      this.#hasSweep = true;
      this.#sweep = context.clock.setTimeout(() => this.#sweepHolds(), this.#holdMs, BACKGROUND_TIMER);
    }
  }

  /** Ends the box's hold time (the box leaves the list at the next sweep). */
  clear(box: WaitingInbox): void {
    box.holdUntil = 0;
  }

  /** Forgets deliveries held for `consumer` (any when undefined): Redis no longer leases them to it. */
  drop(box: WaitingInbox | undefined, consumer: string | undefined): void {
    if (box?.prefetched === undefined || (consumer !== undefined && box.lastConsumer !== consumer)) return;
    box.prefetched = undefined;
    if (box.armedFor === undefined) this.clear(box);
  }

  /** The reader did not come back (or the bus is closing): give back what was held for it, disarm. */
  release(box: WaitingInbox): void {
    this.clear(box);
    const held = box.prefetched;
    box.prefetched = undefined;
    if (held !== undefined && held.length > 0) this.#context.track(this.#leases.giveBack(box.keys, box.name, held));
    if (box.waiters.length === 0 && box.armedFor !== undefined) this.#context.track(this.#handoffs.disarm(box));
  }

  /** Stops the sweep timer (the bus is closing). */
  stop(): void {
    if (!this.#hasSweep) return;
    this.#hasSweep = false;
    this.#context.clock.clearTimeout(this.#sweep);
  }

  #sweepHolds(): void {
    const context = this.#context;
    this.#hasSweep = false;
    this.#sweep = undefined;
    if (context.closed) return;
    const now = context.clock.now();
    let next = Number.POSITIVE_INFINITY;
    // Compacted in place; a box that `release` arms meanwhile is pushed and visited here too.
    const holding = this.#holding;
    let kept = 0;
    for (let index = 0; index < holding.length; index++) {
      const box = holding[index]!;
      if (box.holdUntil !== 0 && box.holdUntil <= now) this.release(box);
      if (box.holdUntil === 0) {
        box.listed = false;
        continue;
      }
      next = Math.min(next, box.holdUntil);
      holding[kept++] = box;
    }
    holding.length = kept;
    if (kept > 0) {
      this.#hasSweep = true;
      this.#sweep = context.clock.setTimeout(() => this.#sweepHolds(), Math.max(1, next - now), BACKGROUND_TIMER);
    }
  }
}
