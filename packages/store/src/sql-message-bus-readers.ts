import {
  addWaiter,
  InboxPump,
  InboxTimer,
  type InboxWaiter,
  releaseWaiters,
  removeWaiter,
  settleWaiter,
} from '@agentrix/bus/implement';
import { backoffDelay, type Delivery, serializeError } from '@agentrix/core';
import { storeError } from './errors.js';
import type { SqlBusLeases } from './sql-message-bus-leases.js';
import type { ResolvedSqlMessageBusOptions } from './sql-message-bus-options.js';

/** A blocked `read` (the same shape in every bus: `@agentrix/bus/implement`). */
type Waiter = InboxWaiter<InboxWaiters>;

/** The blocked readers of one inbox in this process. */
interface InboxWaiters {
  readonly inbox: string;
  readonly waiters: Waiter[];
  /** Hands ready messages to the waiters; a wake-up during a pass makes it pass again. */
  readonly pump: InboxPump;
  /** At the earliest lease end of the inbox (any process), or the retry of a failed pump. */
  readonly leaseTimer: InboxTimer;
  /** The reader a claim is running for, and whether its `blockMs` ran out meanwhile. */
  claiming: Waiter | undefined;
  claimExpired: boolean;
}

/**
 * The blocked reads of {@link SqlMessageBus} in this process: they wait in memory and are woken
 * by a notification on the bus channel (`notifyLocal` in this process, LISTEN/NOTIFY from others
 * on Postgres) or by a timer at the earliest lease end of their inbox; one pump per inbox claims
 * rows for them, oldest reader first.
 */
export class SqlBlockedReaders {
  readonly #options: ResolvedSqlMessageBusOptions;
  readonly #leases: SqlBusLeases;
  readonly #isClosed: () => boolean;
  readonly #waiting = new Map<string, InboxWaiters>();
  /** Counts wake-ups, so a reader that found nothing can tell whether it raced with a send. */
  #wakes = 0;
  #listening: Promise<void> | undefined;
  #unlisten: (() => Promise<void>) | undefined;

  constructor(options: ResolvedSqlMessageBusOptions, leases: SqlBusLeases, isClosed: () => boolean) {
    this.#options = options;
    this.#leases = leases;
    this.#isClosed = isClosed;
  }

  /** Wake-ups seen so far. */
  get wakes(): number {
    return this.#wakes;
  }

  /** A read leased rows of `inbox` until `until`: the lease timer of its waiting readers must fire by then. */
  onLeased(inbox: string, until: number): void {
    const state = this.#waiting.get(inbox);
    if (state !== undefined && state.waiters.length > 0) this.#armLeaseTimer(state, until);
  }

  /** Resolves every blocked read with `[]`, clears the timers, stops listening. */
  async close(failures: unknown[]): Promise<void> {
    for (const state of this.#waiting.values()) {
      state.leaseTimer.clear();
      releaseWaiters(state.waiters, this.#options.clock, failures);
    }
    this.#waiting.clear();
    await this.#listening?.catch(() => {});
    const unlisten = this.#unlisten;
    this.#unlisten = undefined;
    await unlisten?.().catch(() => {});
  }

  listen(): Promise<void> {
    this.#listening ??= this.#options.database
      .listen(this.#options.channel, (payload) => this.#onNotification(payload))
      .then((unlisten) => {
        if (this.#isClosed()) return void unlisten().catch(() => {});
        this.#unlisten = unlisten;
      })
      .catch((error: unknown) => {
        this.#listening = undefined;
        throw storeError(error, 'listening for new messages');
      });
    return this.#listening;
  }

  #onNotification(payload: string): void {
    this.#wakes++;
    if (this.#isClosed()) return;
    if (payload === '*') {
      for (const inbox of this.#waiting.keys()) void this.#pump(inbox);
      return;
    }
    if (this.#waiting.has(payload)) void this.#pump(payload);
  }

  wait(
    inbox: string,
    consumer: string,
    max: number,
    blockMs: number | undefined,
    signal: AbortSignal | undefined,
    raced: boolean,
  ): Promise<Delivery[]> {
    const state = this.#waiting.get(inbox) ?? this.#watch(inbox);
    const read = addWaiter(state, state.waiters, { consumer, max, blockMs, signal }, this.#options.clock, this.#leave);
    if (raced) void this.#pump(inbox);
    else void this.#refreshLeaseTimer(state);
    return read;
  }

  /** The record of an inbox that now has blocked readers here. */
  #watch(inbox: string): InboxWaiters {
    const state: InboxWaiters = {
      inbox,
      waiters: [],
      pump: new InboxPump(),
      // 1 ms after the lease end, so that the lease has surely ended by the time the read runs.
      leaseTimer: new InboxTimer(this.#options.clock, () => void this.#pump(inbox), { lateMs: 1 }),
      claiming: undefined,
      claimExpired: false,
    };
    this.#waiting.set(inbox, state);
    return state;
  }

  /**
   * How a blocked read leaves its inbox when its timer or signal fires (one function for all
   * reads). A read whose `blockMs` runs out while a claim runs for it stays until the claim ends
   * and gets what it took (the pump settles it, a little late): given back, those rows would go
   * to the next reader after rows it already took, out of send order. An aborted read leaves now.
   */
  readonly #leave = (waiter: Waiter): boolean => {
    const state = waiter.box;
    if (state.claiming === waiter && waiter.signal?.aborted !== true) {
      state.claimExpired = true;
      return false;
    }
    return this.#removeWaiter(state, waiter);
  };

  /** Ends a read whose `blockMs` ran out during its claim, with what the claim took. */
  #settleExpired(state: InboxWaiters, waiter: Waiter, deliveries: Delivery[]): boolean {
    if (!state.claimExpired) return false;
    state.claimExpired = false;
    if (!this.#removeWaiter(state, waiter)) return false; // aborted meanwhile: the rows go back
    settleWaiter(waiter, this.#options.clock, deliveries);
    return true;
  }

  #removeWaiter(state: InboxWaiters, waiter: Waiter): boolean {
    if (!removeWaiter(state.waiters, waiter)) return false;
    if (state.waiters.length === 0) this.#dropIfIdle(state);
    return true;
  }

  #dropIfIdle(state: InboxWaiters): void {
    if (state.waiters.length > 0 || state.pump.running) return;
    state.leaseTimer.clear();
    if (this.#waiting.get(state.inbox) === state) this.#waiting.delete(state.inbox);
  }

  /** Hands ready messages to the blocked readers of `inbox`, oldest reader first; one pump per inbox at a time. */
  async #pump(inbox: string): Promise<void> {
    const state = this.#waiting.get(inbox);
    if (state === undefined || !state.pump.request()) return;
    const { clock, logger } = this.#options;
    try {
      do {
        state.pump.beginPass();
        while (state.waiters.length > 0 && !this.#isClosed()) {
          const waiter = state.waiters[0]!;
          let deliveries: Delivery[];
          state.claiming = waiter;
          try {
            deliveries = await this.#leases.claim(inbox, waiter.consumer, waiter.max);
          } catch (error) {
            state.claiming = undefined;
            this.#settleExpired(state, waiter, []);
            throw error;
          }
          state.claiming = undefined;
          if (this.#settleExpired(state, waiter, deliveries)) {
            if (deliveries.length === 0) break;
            continue;
          }
          if (deliveries.length === 0) break;
          if (!waiter.active || this.#isClosed()) {
            await this.#leases.unclaim(inbox, waiter.consumer, deliveries);
            continue;
          }
          state.waiters.shift();
          settleWaiter(waiter, clock, deliveries);
        }
        if (!state.pump.again && state.waiters.length > 0 && !this.#isClosed()) await this.#refreshLeaseTimer(state);
      } while (state.pump.again && !this.#isClosed());
      const failures = state.pump.succeeded();
      if (failures > 0) logger.info({ inbox, attempt: failures }, 'bus reads recovered');
    } catch (error) {
      if (this.#isClosed()) return;
      // The database is failing: keep the readers waiting and try again with backoff.
      const attempt = state.pump.failed();
      const delay = backoffDelay(attempt, { baseDelayMs: 100, maxDelayMs: 5_000 });
      const serialized = serializeError(error);
      logger.warn(
        { inbox, attempt, delayMs: delay, code: serialized.code, error: serialized },
        'bus read failed; retrying',
      );
      this.#armLeaseTimer(state, clock.now() + delay);
    } finally {
      state.pump.stop();
      this.#dropIfIdle(state);
    }
  }

  /** Arms the lease timer of `state` for the earliest lease of its inbox (any process). */
  async #refreshLeaseTimer(state: InboxWaiters): Promise<void> {
    let earliest: number | undefined;
    try {
      earliest = await this.#leases.earliestLeaseEnd(state.inbox);
    } catch (error) {
      if (this.#isClosed()) return;
      const serialized = serializeError(error);
      this.#options.logger.warn(
        { inbox: state.inbox, code: serialized.code, error: serialized },
        'bus lease check failed; checking again in 1 s',
      );
      earliest = this.#options.clock.now() + 1000;
    }
    if (earliest !== undefined) this.#armLeaseTimer(state, earliest);
  }

  #armLeaseTimer(state: InboxWaiters, at: number): void {
    if (this.#isClosed() || state.waiters.length === 0) return;
    state.leaseTimer.armAt(at);
  }
}
