import type { Delivery } from '@agentrix/core';
import { untilAborted } from '@agentrix/core/implement';
import { addWaiter, releaseWaiters, removeWaiter, settleWaiter } from './implement/blocked-reads.js';
import { InboxPump } from './implement/inbox-pump.js';
import { InboxTimer } from './implement/inbox-timer.js';
import type { RedisBusContext } from './redis-bus-context.js';
import type { RedisDeadLetters } from './redis-dead-letters.js';
import { isHandoff, RedisHandoffs } from './redis-handoff.js';
import type { ReadResult, RedisInboxReader } from './redis-inbox-reader.js';
import type { RedisLeaseManager } from './redis-lease-manager.js';
import { PrefetchCache } from './redis-prefetch-cache.js';
import type { RedisScriptBatches } from './redis-script-batches.js';
import { READ_CHECK_LEASES, READ_HANDOFF, READ_MAYBE_EMPTY } from './redis-scripts.js';
import {
  blockedReadFlags,
  createWaitingInbox,
  type FetchHandlers,
  isReading,
  type Waiter,
  type WaitingInbox,
} from './redis-waiting-inbox.js';
import type { RedisWakeHub } from './redis-wake-hub.js';

/** Blocked reads that meet a Redis error retry after this long, doubling up to the maximum. */
const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 2_000;

/**
 * A reader loop whose last turn (from taking what was held for it to its ack) took at most this
 * long, and whose inbox has a backlog, gets FETCH_AHEAD messages per fetch instead of one: the
 * others wait in the prefetch cache for more short turns, leased already (given back after the hold
 * time if the loop does not come for them; a `nack` gives them back first), and their acks fetch
 * nothing. Long turns (a model call) keep one, so no message waits leased behind a long turn.
 */
const SHORT_TURN_MS = 10;

/**
 * Messages per fetch for a loop with short turns (see SHORT_TURN_MS). Each plain `XREADGROUP` walks
 * the stream node from its first entry to the group's position, so what one read takes shares the
 * walk: 27,800 instructions for one entry of a stream, 39,300 for two, 58,200 for four
 * (bench/bus/script-costs.ts). End to end with 100 agents (`command-counts.ts`, session 13) Redis
 * spends 1.23 µs a message in `XREADGROUP` with four against 1.58-1.75 with two, with the same
 * script calls a message. (Session 12 kept two on callgrind's count, 94,100 instructions a message
 * for three or four against 86,400: under valgrind Redis runs about 50 times slower, inboxes drain
 * between fetches and more reads fall back to the script, which does not happen at full speed.)
 * Eight: no better than four.
 */
const FETCH_AHEAD = 4;

function ignore(): void {}

/**
 * The reading side of the Redis bus: blocked reads wait here (holding no connection) and one loop
 * per inbox feeds them, woken by the wake-up hub, by a hand-off, or by a timer at the earliest
 * lease end; an ack of a reader loop fetches its next message into the {@link PrefetchCache}.
 */
export class RedisReaderPump {
  readonly #context: RedisBusContext;
  readonly #hub: RedisWakeHub;
  readonly #batches: RedisScriptBatches;
  readonly #reader: RedisInboxReader;
  readonly #leases: RedisLeaseManager;
  readonly #handoffs: RedisHandoffs;
  readonly #cache: PrefetchCache;
  readonly #waiting = new Map<string, WaitingInbox>();
  /** Inboxes with a `leaving` set: while none, a send looks nothing up. */
  #leavingCount = 0;

  constructor(
    context: RedisBusContext,
    parts: {
      hub: RedisWakeHub;
      batches: RedisScriptBatches;
      reader: RedisInboxReader;
      leases: RedisLeaseManager;
      deadLetters: RedisDeadLetters;
    },
  ) {
    this.#context = context;
    this.#hub = parts.hub;
    this.#batches = parts.batches;
    this.#reader = parts.reader;
    this.#leases = parts.leases;
    const readers = {
      pump: (box: WaitingInbox) => this.#pump(box),
      removeWaiter: (box: WaitingInbox, waiter: Waiter) => this.#removeWaiter(box, waiter),
      hold: (box: WaitingInbox, deliveries: Delivery[]) => this.#cache.hold(box, deliveries),
    };
    this.#handoffs = new RedisHandoffs(context, parts.leases, parts.deadLetters, readers);
    this.#cache = new PrefetchCache(context, parts.leases, this.#handoffs, readers.removeWaiter);
  }

  /** A read whose options are checked: what is held for its reader, a read now, or a wait. */
  read(
    inbox: string,
    consumer: string,
    max: number,
    blockMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Delivery[]> {
    const box = this.#waiting.get(inbox);
    if (box?.prefetched !== undefined && box.lastConsumer === consumer && signal?.aborted !== true) {
      box.takenAt = this.#context.clock.now();
      return Promise.resolve(this.#cache.take(box, max));
    }
    if (blockMs === 0) return this.#readNow(inbox, consumer, max, signal);
    return this.#wait(inbox, consumer, max, blockMs, signal);
  }

  /** Acks entry ids; between two reads of a reader loop, also fetches its next message. */
  ack(inbox: string, ids: readonly string[]): Promise<void> {
    const box = this.#waiting.get(inbox);
    const consumer = box?.lastConsumer;
    if (
      box === undefined ||
      consumer === undefined ||
      box.waiters.length > 0 ||
      isReading(box) ||
      box.prefetched !== undefined ||
      box.armedFor !== undefined ||
      !this.#hub.isSubscribed(inbox)
    ) {
      return this.#batches.read({ inbox, consumer: '', max: 0, flags: 0, ack: ids }).then(ignore);
    }
    return this.#ackAndFetch(box, consumer, ids);
  }

  /**
   * Gives back what is held for the inbox's reader loop (a nack is coming: the delivery it parks
   * must come back before messages fetched ahead of it, so those are parked first).
   */
  giveBackHeld(inbox: string): void {
    const box = this.#waiting.get(inbox);
    if (box?.prefetched !== undefined) this.#cache.release(box);
  }

  /** Forgets deliveries held here for `consumer` (any when undefined): Redis no longer leases them to it. */
  dropHeld(inbox: string, consumer: string | undefined): void {
    this.#cache.drop(this.#waiting.get(inbox), consumer);
  }

  // ---------------------------------------------------------------- the wake-up hub's callbacks

  onWake(inbox: string, message: string): void {
    const box = this.#waiting.get(inbox);
    if (box !== undefined) box.armedFor = undefined;
    if (isHandoff(message) && this.#handoffs.take(inbox, box, message)) return;
    if (box !== undefined) this.#pump(box);
  }

  onReconnect(): void {
    for (const box of this.#waiting.values()) this.#pump(box);
  }

  isBusy(inbox: string): boolean {
    const box = this.#waiting.get(inbox);
    return box !== undefined && (box.waiters.length > 0 || isReading(box) || box.holdUntil !== 0);
  }

  /** Called only for inboxes `isBusy` just found idle. */
  forget(inbox: string): void {
    this.#waiting.delete(inbox);
  }

  /** Resolves every blocked read with `[]` and gives back what is held (tracked: `close()` awaits it). */
  shutdown(failures: unknown[]): void {
    this.#cache.stop();
    for (const box of this.#waiting.values()) {
      box.timer.clear();
      this.#cache.release(box);
      if (box.armedFor !== undefined) this.#context.track(this.#handoffs.disarm(box));
      this.#endLeaving(box, undefined);
      releaseWaiters(box.waiters, this.#context.clock, failures);
    }
    this.#waiting.clear();
  }

  // ---------------------------------------------------------------- reads

  #ackAndFetch(box: WaitingInbox, consumer: string, ids: readonly string[]): Promise<void> {
    const issuedAt = this.#hub.sequence;
    const flags = this.#leases.checkFlag(box.name, blockedReadFlags(consumer) | (box.handedOff ? READ_MAYBE_EMPTY : 0));
    if (box.handedOff) box.fullFetches = 0;
    box.handedOff = false;
    // A plain read only where the last two fetches found a backlog: one that finds the inbox empty
    // costs a second read to arm it (wake-only.ts at 20k/s: p99 2.1-3.5 -> 1.9-6.4 ms when every
    // fetch after a second message in a turn went plain).
    const plain = box.fullFetches >= 2;
    const max = plain && this.#context.clock.now() - box.takenAt <= SHORT_TURN_MS ? FETCH_AHEAD : 1;
    // The reader is between reads: nobody else reads for it until this returns.
    box.fetching = true;
    box.fetchConsumer = consumer;
    box.fetchFlags = flags;
    box.fetchIssuedAt = issuedAt;
    return this.#batches
      .read({ inbox: box.name, consumer, max, flags, ack: ids, plain })
      .then(box.onFetched, box.onFetchFailed);
  }

  /** The reply of an ack's fetch (see #ackAndFetch): what it took is held for the reader, or the inbox is drained. */
  readonly #fetchHandlers: FetchHandlers = {
    fetched: (box, reply) => {
      box.fetching = false;
      const { fetchConsumer: consumer, fetchFlags: flags, fetchIssuedAt: issuedAt } = box;
      const result = this.#reader.reply(box.keys, box.name, reply);
      // A promise only when malformed entries are being dead-lettered (then `more` is true); the
      // box may start another fetch meanwhile, so this one's fields are passed along.
      if (result instanceof Promise) {
        return result.then((outcome) => this.#applyFetch(box, outcome, consumer, flags, issuedAt));
      }
      this.#applyFetch(box, result, consumer, flags, issuedAt);
      return undefined;
    },
    failed: (box, error) => {
      box.fetching = false;
      if (box.waiters.length > 0) this.#pump(box);
      throw error;
    },
  };

  #applyFetch(box: WaitingInbox, result: ReadResult, consumer: string, flags: number, issuedAt: number): void {
    box.fullFetches = result.deliveries.length > 0 && result.more ? box.fullFetches + 1 : 0;
    if (result.deliveries.length > 0) this.#cache.hold(box, result.deliveries);
    else if (!result.more && !this.#context.closed) {
      this.#markDrained(box, issuedAt, result.hintMs);
      if ((flags & READ_HANDOFF) !== 0) {
        box.armedFor = consumer;
        this.#cache.arm(box);
      }
    }
    if (box.waiters.length > 0) this.#pump(box);
  }

  /**
   * A read that does not wait for messages. Its caller is answered at once when its signal fires,
   * even while Redis does not answer (the connection is down and ioredis holds the command): what
   * the read takes once Redis answers is then given back.
   */
  #readNow(inbox: string, consumer: string, max: number, signal: AbortSignal | undefined): Promise<Delivery[]> {
    const keys = this.#context.keys.inbox(inbox);
    const operation = this.#reader.read(keys, inbox, consumer, max, 0).then(async (result) => {
      if (!this.#context.closed && signal?.aborted !== true) return result.deliveries;
      // Nobody takes these: the bus closed, or the caller was already answered with ABORTED.
      if (result.deliveries.length > 0) await this.#leases.giveBack(keys, inbox, result.deliveries);
      return [];
    });
    return untilAborted(this.#context.track(operation), signal, 'read');
  }

  #wait(
    inbox: string,
    consumer: string,
    max: number,
    blockMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Delivery[]> {
    const box = this.#waiting.get(inbox) ?? this.#createBox(inbox);
    box.lastConsumer = consumer;
    // The reader came back: an arm kept for it stays (nothing was held, or it was for another consumer).
    if (box.prefetched === undefined) this.#cache.clear(box);
    const read = addWaiter(box, box.waiters, { consumer, max, blockMs, signal }, this.#context.clock, this.#leave);
    this.#pump(box);
    return read;
  }

  #createBox(inbox: string): WaitingInbox {
    const timer = new InboxTimer(this.#context.clock, () => {
      // A lease may have ended (or a failed read is retried): read for real.
      this.#hub.invalidate(inbox);
      box.checkLeases = true;
      this.#pump(box);
    });
    const box = createWaitingInbox(inbox, this.#context.keys.inbox(inbox), new InboxPump(), timer, this.#fetchHandlers);
    this.#waiting.set(inbox, box);
    return box;
  }

  // ---------------------------------------------------------------- the loop per inbox

  /**
   * Feeds the blocked reads of one inbox, oldest first, until one finds nothing; then waits for a
   * wake-up (or for the earliest lease in flight to end). One loop per inbox at a time: a wake-up
   * during a loop makes it run once more.
   */
  #pump(box: WaitingInbox): void {
    // An ack fetching ahead pumps when it is back.
    if (box.fetching) return;
    // Known drained and no lease about to end: wait for the wake-up without starting a read loop.
    if (!box.pump.running && box.waiters.length > 0 && !this.#context.closed && this.#hub.isSubscribed(box.name)) {
      if (this.#waitForWake(box)) return;
    }
    if (box.pump.request()) this.#context.track(this.#runPump(box));
  }

  // One function with no await of a helper between a hand-over and the end of the loop: see InboxPump.
  async #runPump(box: WaitingInbox): Promise<void> {
    const context = this.#context;
    try {
      do {
        box.pump.beginPass();
        if (box.waiters.length === 0 || context.closed) break;
        if (!this.#hub.isSubscribed(box.name)) await this.#hub.subscribe(box.name);
        while (box.waiters.length > 0 && !context.closed) {
          // Drained by an earlier read and no wake-up since: nothing to read but expired leases.
          if (this.#hub.drained(box.name) !== undefined) {
            if (this.#waitForWake(box)) break;
            this.#hub.invalidate(box.name);
            box.checkLeases = true;
          }
          const waiter = box.waiters[0]!;
          const issuedAt = this.#hub.sequence;
          const flags = blockedReadFlags(waiter.consumer) | (box.checkLeases ? READ_CHECK_LEASES : 0);
          box.checkLeases = false;
          const result = await this.#reader.read(box.keys, box.name, waiter.consumer, waiter.max, flags);
          if (!result.more && result.deliveries.length === 0 && (flags & READ_HANDOFF) !== 0) {
            // Set even if the hand-off already came: disarming checks the arm is still ours.
            box.armedFor = waiter.consumer;
          }
          if (!waiter.active || context.closed) {
            // The reader went away (abort, timeout, close) while its read was in flight.
            if (result.deliveries.length > 0) await this.#leases.giveBack(box.keys, box.name, result.deliveries);
            continue;
          }
          if (!result.more) this.#markDrained(box, issuedAt, result.hintMs);
          if (result.deliveries.length > 0) {
            this.#removeWaiter(box, waiter);
            settleWaiter(waiter, context.clock, result.deliveries);
            continue;
          }
          this.#armInboxTimer(box, result.hintMs);
          break;
        }
      } while (box.pump.again && !context.closed);
      box.pump.succeeded();
    } catch (error) {
      const attempt = box.pump.failed();
      if (!context.closed) {
        context.logger.warn(
          { inbox: box.name, attempt, error: error instanceof Error ? error.message : String(error) },
          'RedisStreamsBus blocked read failed; retrying',
        );
        this.#armInboxTimer(box, Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempt - 1, 10)));
      }
    } finally {
      box.pump.stop();
      if (box.waiters.length === 0) this.#idleInbox(box);
      // A reader came back meanwhile: the loop armed the inbox for it, not for the one that left.
      else this.#endLeaving(box, undefined);
    }
  }

  /**
   * When the hub knows the inbox drained and no lease is about to end, arms the lease-end timer
   * and returns true (the wake-up comes through the hub); false when the inbox must be read.
   */
  #waitForWake(box: WaitingInbox): boolean {
    const leaseEndsAt = this.#hub.drained(box.name);
    if (leaseEndsAt === undefined) return false;
    const left = leaseEndsAt < 0 ? -1 : leaseEndsAt - this.#context.clock.now();
    if (leaseEndsAt >= 0 && left <= 0) return false;
    this.#armInboxTimer(box, left);
    return true;
  }

  #markDrained(box: WaitingInbox, issuedAt: number, hintMs: number): void {
    this.#hub.markDrained(box.name, issuedAt, hintMs < 0 ? -1 : this.#context.clock.now() + hintMs);
  }

  #armInboxTimer(box: WaitingInbox, delayMs: number): void {
    if (this.#context.closed) box.timer.clear();
    else box.timer.armIn(delayMs);
  }

  // ---------------------------------------------------------------- leaving

  /**
   * How a blocked read leaves its inbox when its signal fires or its `blockMs` passes (one
   * function for all reads). When it was the last reader and a read for it is in flight or the
   * inbox is armed for it, sends from this bus wait until the arm is taken back (see `leaving`).
   */
  readonly #leave = (waiter: Waiter): boolean => {
    const box = waiter.box;
    if (
      box.leaving === undefined &&
      box.waiters.length === 1 &&
      box.waiters[0] === waiter &&
      // Ended by the loop's end or by the disarm; an ack fetching ahead arms for the reader loop itself.
      (box.pump.running || (box.armedFor !== undefined && !box.fetching)) &&
      !this.#context.closed
    ) {
      box.leaving = new Promise<void>((resolve) => {
        box.endLeaving = resolve;
      });
      this.#leavingCount++;
    }
    return this.#removeWaiter(box, waiter);
  };

  /** What a send to `inbox` waits for first: a reader that left is being disarmed (see `leaving`). */
  leaving(inbox: string): Promise<void> | undefined {
    return this.#leavingCount === 0 ? undefined : this.#waiting.get(inbox)?.leaving;
  }

  /** The loop stopped and the arm is taken back (after `disarmed`): sends go on. */
  #endLeaving(box: WaitingInbox, disarmed: Promise<void> | undefined): void {
    const end = box.endLeaving;
    if (end === undefined) return;
    box.endLeaving = undefined;
    // No new `leaving` is set while this one is (see #leave), so it is still this one.
    const done = () => {
      box.leaving = undefined;
      this.#leavingCount--;
      end();
    };
    if (disarmed === undefined) done();
    else void disarmed.then(done);
  }

  #removeWaiter(box: WaitingInbox, waiter: Waiter): boolean {
    if (!removeWaiter(box.waiters, waiter)) return false;
    if (box.waiters.length === 0 && !isReading(box)) this.#idleInbox(box);
    return true;
  }

  /**
   * Nobody waits on the inbox any more. Its record stays (the next read of the same agent reuses
   * it) until the wake-up hub lets go of the idle inbox.
   */
  #idleInbox(box: WaitingInbox): void {
    box.timer.clear();
    let disarmed: Promise<void> | undefined;
    if (box.armedFor !== undefined && !this.#context.closed) {
      disarmed = this.#handoffs.disarm(box);
      this.#context.track(disarmed);
    }
    this.#endLeaving(box, disarmed);
  }
}
