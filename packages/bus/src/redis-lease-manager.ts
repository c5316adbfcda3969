import { type Delivery, type NackOptions, serializeError } from '@agentrix/core';
import type { RedisBusContext } from './redis-bus-context.js';
import type { RawDeadLetter, RedisDeadLetters } from './redis-dead-letters.js';
import { isEntryId } from './redis-entries.js';
import type { InboxKeys } from './redis-keys.js';
import { extendLeaseScript, giveBackScript, nackScript, releaseScript } from './redis-lease-scripts.js';
import { READ_CHECK_LEASES } from './redis-scripts.js';
import type { RedisWakeHub } from './redis-wake-hub.js';

/** The Redis consumer that holds nacked and released deliveries until the next read claims them. */
export const RELEASED_CONSUMER = 'agentrix:released';
/** Idle time given to parked deliveries (about 10 years): any read's `XPENDING IDLE leaseMs` finds them. */
const PARKED_IDLE_MS = 315_360_000_000;
/** Longest time between two looks for expired leases of one inbox by the reads of one process. */
const LEASE_CHECK_MAX_MS = 1_000;
/** Inboxes whose last lease check is remembered; past that the memory starts over (checks happen early, not late). */
const LEASE_CHECK_MEMORY = 50_000;

/** A quarter of the lease, between 1 ms and `cap`. */
export function quarterLease(leaseMs: number, cap: number): number {
  return Math.max(1, Math.min(cap, Math.floor(leaseMs / 4)));
}

/**
 * Leases are Redis idle times on the consumer group's pending entries: this restarts them
 * (`extendLease`), gives deliveries back early (`nack`, `releaseConsumer`, a cancelled read) by
 * parking them on a reserved consumer, and decides when a read must look for expired ones.
 */
export class RedisLeaseManager {
  readonly #context: RedisBusContext;
  readonly #hub: RedisWakeHub;
  readonly #deadLetters: RedisDeadLetters;
  /**
   * When this process last had a read look for expired leases, per inbox. Reads look at most every
   * `#checkMs` (a quarter of the lease, at most a second), so an expired lease is found within
   * that long of its end under load; a blocked reader's timer finds it at its end.
   */
  readonly #checkedAt = new Map<string, number>();
  readonly #checkMs: number;

  constructor(context: RedisBusContext, hub: RedisWakeHub, deadLetters: RedisDeadLetters) {
    this.#context = context;
    this.#hub = hub;
    this.#deadLetters = deadLetters;
    this.#checkMs = quarterLease(context.leaseMs, LEASE_CHECK_MAX_MS);
  }

  /** `flags` plus READ_CHECK_LEASES when this process has not looked for expired leases of the inbox lately. */
  checkFlag(inbox: string, flags: number): number {
    const now = this.#context.clock.now();
    const checkedAt = this.#checkedAt.get(inbox);
    if ((flags & READ_CHECK_LEASES) !== 0 || checkedAt === undefined || now - checkedAt >= this.#checkMs) {
      if (checkedAt === undefined && this.#checkedAt.size >= LEASE_CHECK_MEMORY) this.#checkedAt.clear();
      this.#checkedAt.set(inbox, now);
      return flags | READ_CHECK_LEASES;
    }
    return flags;
  }

  /** Restarts the idle time of the deliveries `consumer` still holds; returns how many it held. */
  async extend(inbox: string, deliveryIds: readonly string[], consumer: string): Promise<number> {
    const context = this.#context;
    const ids = deliveryIds.filter(isEntryId);
    if (ids.length === 0) return 0;
    const keys = context.keys.inbox(inbox);
    const held = await context.call('extendLease', inbox, () =>
      extendLeaseScript.run(context.client, [keys.stream], [context.group, consumer, ...ids]),
    );
    return Number(held);
  }

  /** Parks a delivery for immediate redelivery with its last error, or dead-letters it when spent. */
  async nack(inbox: string, deliveryId: string, options: NackOptions | undefined): Promise<void> {
    if (!isEntryId(deliveryId)) return;
    const context = this.#context;
    const keys = context.keys.inbox(inbox);
    this.#hub.invalidate(inbox);
    const errorJson = options?.error === undefined ? '' : JSON.stringify(serializeError(options.error));
    const reply = (await context.call('nack', inbox, () =>
      nackScript.run(
        context.client,
        [keys.stream, keys.errors, keys.dead, keys.reclaim, keys.armed],
        [
          context.group,
          deliveryId,
          errorJson,
          context.maxDeliveries,
          context.clock.now(),
          context.deadLetterMaxLength,
          RELEASED_CONSUMER,
          PARKED_IDLE_MS,
          keys.wakeChannel,
        ],
      ),
    )) as [number, RawDeadLetter[]?];
    if (reply[0] === 2) this.#deadLetters.announce(inbox, reply[1] ?? []);
    this.#hub.invalidate(inbox);
  }

  /** Parks every delivery `consumer` holds for immediate redelivery; returns how many. */
  async release(inbox: string, consumer: string): Promise<number> {
    const context = this.#context;
    const keys = context.keys.inbox(inbox);
    const released = await context.call('releaseConsumer', inbox, () =>
      releaseScript.run(
        context.client,
        [keys.stream, keys.reclaim, keys.armed],
        [context.group, consumer, RELEASED_CONSUMER, PARKED_IDLE_MS, keys.wakeChannel],
      ),
    );
    this.#hub.invalidate(inbox);
    return Number(released);
  }

  /** Hands deliveries back to the inbox (first in line), restoring their delivery counts. */
  async giveBack(keys: InboxKeys, inbox: string, deliveries: readonly Delivery[]): Promise<void> {
    const context = this.#context;
    const pairs: Array<string | number> = [];
    for (const delivery of deliveries) pairs.push(delivery.deliveryId, delivery.attempt - 1);
    this.#hub.invalidate(inbox);
    try {
      await context.call('read', inbox, () =>
        giveBackScript.run(
          context.client,
          [keys.stream, keys.reclaim, keys.armed],
          [context.group, RELEASED_CONSUMER, PARKED_IDLE_MS, keys.wakeChannel, ...pairs],
        ),
      );
    } catch (error) {
      // Not lost: the lease ends and the next read claims them (with one more attempt counted).
      context.logger.warn(
        { inbox, error: error instanceof Error ? error.message : String(error) },
        'RedisStreamsBus could not hand back deliveries of a cancelled read',
      );
    }
  }
}
