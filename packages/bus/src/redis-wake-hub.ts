import { BACKGROUND_TIMER, type Clock, type Logger, type TimerHandle } from '@agentrix/core';
import type { RedisClientLike } from '@agentrix/core/implement';

/** What the hub knows of one inbox it is subscribed to. */
interface Subscription {
  /** Last time a reader here needed it (for the idle sweep). */
  lastUsed: number;
  /** Sequence number at which the subscription was confirmed. */
  since: number;
  /** Sequence number of the last wake-up received for it. */
  lastWake: number;
  /** A read issued after `since` and after the last wake-up found the inbox drained (and armed it). */
  drained: boolean;
  /** When `drained`: the local time the earliest in-flight lease ends, -1 for none. */
  leaseEndsAt: number;
}

/** Inboxes whose subscriptions go out in one SUBSCRIBE, and the promise their callers wait on. */
interface SubscribeBatch {
  readonly inboxes: string[];
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * One pub/sub connection per bus (so per process, usually) that tells local blocked reads when
 * their inbox has something to read.
 *
 * Every write that makes something readable (send, nack, release, redrive) publishes to the
 * inbox's wake channel in the same Lua script. The hub subscribes to the channels of inboxes
 * that have (or recently had) a blocked reader here, in batches, and calls `onWake(inbox, message)`
 * (`message` is `'1'` for a plain wake-up, or a hand-off, see the send script).
 * Pub/sub drops messages while a connection is down, so after a reconnect the hub calls
 * `onReconnect()` and the bus re-reads every waiting inbox.
 */
export class RedisWakeHub {
  readonly #createSubscriber: () => RedisClientLike;
  readonly #channelPrefix: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #idleMs: number;
  readonly #onWake: (inbox: string, message: string) => void;
  readonly #onReconnect: () => void;
  readonly #isBusy: (inbox: string) => boolean;
  readonly #onForget: (inbox: string) => void;

  #subscriber: RedisClientLike | undefined;
  /** Confirmed subscriptions. */
  readonly #subscribed = new Map<string, Subscription>();
  /** Orders wake-ups, subscriptions, connection losses and the reads issued in between. */
  #sequence = 0;
  /** Sequence number of the last time wake-ups may have been lost (connection closed or back). */
  #lostAt = 0;
  /** Subscriptions being made: inbox -> promise of the batch that makes it. */
  readonly #pending = new Map<string, Promise<void>>();
  #batch: SubscribeBatch | undefined;
  /** Batches and unsubscribes held until the connection is ready (see {@link #whenReady}). */
  #held: Array<SubscribeBatch | string[]> = [];
  #sweepTimer: TimerHandle | undefined;
  #hasSweepTimer = false;
  #readyOnce = false;
  #closed = false;

  constructor(options: {
    createSubscriber: () => RedisClientLike;
    channelPrefix: string;
    clock: Clock;
    logger: Logger;
    idleMs: number;
    onWake: (inbox: string, message: string) => void;
    onReconnect: () => void;
    /** True while the inbox has a blocked reader, so its subscription must stay. */
    isBusy: (inbox: string) => boolean;
    /** The hub stopped listening to an idle inbox (the bus drops what it kept for it). */
    onForget?: (inbox: string) => void;
  }) {
    this.#createSubscriber = options.createSubscriber;
    this.#channelPrefix = options.channelPrefix;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#idleMs = options.idleMs;
    this.#onWake = options.onWake;
    this.#onReconnect = options.onReconnect;
    this.#isBusy = options.isBusy;
    this.#onForget = options.onForget ?? (() => {});
  }

  /** How many inbox channels this process is subscribed to. */
  get subscriptions(): number {
    return this.#subscribed.size;
  }

  /** True when wake-ups for `inbox` already arrive (no need to wait for a subscription). */
  isSubscribed(inbox: string): boolean {
    const subscription = this.#subscribed.get(inbox);
    if (subscription === undefined) return false;
    subscription.lastUsed = this.#clock.now();
    return true;
  }

  /** The current sequence number: take it just before issuing a read, for {@link markDrained}. */
  get sequence(): number {
    return this.#sequence;
  }

  /**
   * Records that a read issued at `issuedAt` (a {@link sequence}) found `inbox` drained and armed
   * it, unless a wake-up for the inbox or a connection loss came since: until the next wake-up,
   * reading the inbox again would find nothing (lease expiries aside: `leaseEndsAt`), so blocked
   * reads may wait without reading first.
   */
  markDrained(inbox: string, issuedAt: number, leaseEndsAt: number): void {
    const subscription = this.#subscribed.get(inbox);
    if (
      subscription === undefined ||
      this.#closed ||
      this.#subscriber?.status !== 'ready' ||
      subscription.since > issuedAt ||
      subscription.lastWake > issuedAt ||
      this.#lostAt > issuedAt
    ) {
      return;
    }
    subscription.drained = true;
    subscription.leaseEndsAt = leaseEndsAt;
  }

  /** When `inbox` is known drained (see {@link markDrained}): when its earliest lease ends (-1: none). Else undefined. */
  drained(inbox: string): number | undefined {
    const subscription = this.#subscribed.get(inbox);
    return subscription?.drained === true ? subscription.leaseEndsAt : undefined;
  }

  /** Forgets that `inbox` was drained (something may be readable again). */
  invalidate(inbox: string): void {
    const subscription = this.#subscribed.get(inbox);
    if (subscription !== undefined) subscription.drained = false;
  }

  #invalidateAll(): void {
    this.#lostAt = ++this.#sequence;
    for (const subscription of this.#subscribed.values()) subscription.drained = false;
  }

  /** Resolves once wake-ups for `inbox` arrive here. Subscriptions asked for in one tick go in one SUBSCRIBE. */
  subscribe(inbox: string): Promise<void> {
    if (this.isSubscribed(inbox)) return Promise.resolve();
    const pending = this.#pending.get(inbox);
    if (pending !== undefined) return pending;
    if (this.#batch === undefined) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#batch = { inboxes: [], promise, resolve, reject };
      queueMicrotask(() => this.#flush());
    }
    this.#batch.inboxes.push(inbox);
    this.#pending.set(inbox, this.#batch.promise);
    return this.#batch.promise;
  }

  /** Stops wake-ups for an inbox (it was deleted, or is idle). */
  forget(inbox: string): void {
    if (!this.#subscribed.delete(inbox)) return;
    this.#unsubscribe([this.#channelPrefix + inbox]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#hasSweepTimer) {
      this.#hasSweepTimer = false;
      this.#clock.clearTimeout(this.#sweepTimer);
    }
    this.#batch?.resolve();
    this.#batch = undefined;
    for (const held of this.#held.splice(0)) if (!Array.isArray(held)) held.resolve();
    this.#pending.clear();
    this.#subscribed.clear();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    // A subscriber has nothing to flush: disconnecting at once also ends a reconnect loop.
    subscriber?.disconnect();
  }

  #connection(): RedisClientLike {
    if (this.#subscriber !== undefined) return this.#subscriber;
    const subscriber = this.#createSubscriber();
    subscriber.on('message', (channel: string, message: string) => {
      if (!channel.startsWith(this.#channelPrefix)) return;
      const inbox = channel.slice(this.#channelPrefix.length);
      const subscription = this.#subscribed.get(inbox);
      if (subscription !== undefined) {
        subscription.lastWake = ++this.#sequence;
        subscription.drained = false;
      }
      this.#onWake(inbox, message);
    });
    // Wake-ups published while the connection is down are lost: nothing is known drained any more.
    subscriber.on('close', () => this.#invalidateAll());
    subscriber.on('ready', () => {
      // The first ready is the first connection; later ones follow a reconnect, and wake-ups
      // published meanwhile were lost. ioredis has sent SUBSCRIBE again before 'ready'; the PING
      // answers after it, so the re-reads start once wake-ups arrive again.
      this.#invalidateAll();
      for (const held of this.#held.splice(0)) {
        if (Array.isArray(held)) this.#unsubscribe(held);
        else this.#send(held);
      }
      if (!this.#readyOnce) {
        this.#readyOnce = true;
        return;
      }
      const reread = () => {
        if (this.#closed) return;
        this.#invalidateAll();
        this.#onReconnect();
      };
      subscriber.call('PING').then(reread, reread);
    });
    subscriber.on('error', (error: unknown) => {
      this.#logger.warn(
        {
          error: error instanceof Error ? error.message : String(error),
        },
        'RedisStreamsBus wake-up connection error',
      );
    });
    this.#subscriber = subscriber;
    return subscriber;
  }

  #flush(): void {
    const batch = this.#batch;
    this.#batch = undefined;
    if (batch === undefined || this.#closed) return;
    this.#send(batch);
  }

  /**
   * True when the connection is ready for (UN)SUBSCRIBE now; otherwise `work` is held and sent on
   * the next 'ready' event.
   *
   * Why: ioredis writes SUBSCRIBE at once, ahead of its own ready check, while a connection is in
   * its handshake (status `connect`: SUBSCRIBE is allowed while Redis loads). Its reply puts the
   * connection in subscriber mode, so ioredis then refuses its own ready-check INFO, takes that
   * as fatal and reconnects; and since the connection never was ready, it does not subscribe
   * again after the reconnect. The hub had the subscription confirmed, so a reader waited for
   * wake-ups that never came: the first asks on a fresh bus lost their replies (issue 12, item
   * 14). Sent only when the connection is ready, a confirmed subscription is one ioredis renews
   * after every reconnect (`autoResubscribe`).
   */
  #whenReady(work: SubscribeBatch | string[]): boolean {
    if (this.#connection().status === 'ready') return true;
    this.#held.push(work);
    return false;
  }

  #unsubscribe(channels: string[]): void {
    if (this.#closed || this.#subscriber === undefined || !this.#whenReady(channels)) return;
    this.#subscriber.unsubscribe(...channels).catch(() => {});
  }

  #send(batch: SubscribeBatch): void {
    if (this.#closed || !this.#whenReady(batch)) return;
    const channels = batch.inboxes.map((inbox) => this.#channelPrefix + inbox);
    this.#connection()
      .subscribe(...channels)
      .then(
        () => {
          const now = this.#clock.now();
          const since = ++this.#sequence;
          for (const inbox of batch.inboxes) {
            this.#pending.delete(inbox);
            if (!this.#closed && !this.#subscribed.has(inbox)) {
              this.#subscribed.set(inbox, { lastUsed: now, since, lastWake: 0, drained: false, leaseEndsAt: -1 });
            }
          }
          this.#armSweep();
          batch.resolve();
        },
        (error: unknown) => {
          for (const inbox of batch.inboxes) this.#pending.delete(inbox);
          batch.reject(error);
        },
      );
  }

  #armSweep(): void {
    if (this.#hasSweepTimer || this.#closed || this.#subscribed.size === 0) return;
    this.#sweepTimer = this.#clock.setTimeout(() => this.#sweep(), this.#idleMs, BACKGROUND_TIMER);
    this.#hasSweepTimer = true;
    unref(this.#sweepTimer);
  }

  /** Unsubscribes from inboxes nobody here has waited on for `idleMs`. */
  #sweep(): void {
    this.#hasSweepTimer = false;
    this.#sweepTimer = undefined;
    if (this.#closed) return;
    const cutoff = this.#clock.now() - this.#idleMs;
    const idle: string[] = [];
    for (const [inbox, subscription] of this.#subscribed) {
      if (subscription.lastUsed <= cutoff && !this.#isBusy(inbox)) idle.push(inbox);
    }
    for (const inbox of idle) {
      this.#subscribed.delete(inbox);
      this.#onForget(inbox);
    }
    if (idle.length > 0) this.#unsubscribe(idle.map((inbox) => this.#channelPrefix + inbox));
    this.#armSweep();
  }
}

/** Lets the process exit while only a housekeeping timer is left. */
function unref(handle: TimerHandle | undefined): void {
  const timer = handle as { unref?: () => void } | undefined;
  if (typeof timer?.unref === 'function') timer.unref();
}
