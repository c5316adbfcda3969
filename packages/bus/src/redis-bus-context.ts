import { randomUUID } from 'node:crypto';
import type { AgentrixEvents, Clock, IdGenerator, Logger } from '@agentrix/core';
import type { RedisClientLike } from '@agentrix/core/implement';
import { redisError, withDeadline } from './redis-client.js';
import { RedisKeys } from './redis-keys.js';
import { keySlot } from './redis-slot.js';
import type { ResolvedRedisStreamsBusOptions } from './redis-streams-bus-options.js';

/** How long `close()` waits for reads in flight to hand back what they took, and for QUIT. */
export const CLOSE_GRACE_MS = 2_000;

/** Operations on groups (the `{groups}` keys) rather than on one inbox. */
const GROUP_OPERATIONS = new Set(['createGroup', 'deleteGroup', 'join', 'leave', 'groups', 'members', 'broadcast']);

/** Clients created by `createRedisBus` from a URL: the bus owns (and closes) them. */
const ownedClients = new WeakSet<RedisClientLike>();

/** Marks a client as owned by the bus about to be created with it (used by `createRedisBus`). */
export function markClientOwned(client: RedisClientLike): void {
  ownedClients.add(client);
}

/**
 * What every part of one {@link RedisStreamsBus} shares: the client and key names, the resolved
 * settings, the closed flag, the work in flight that `close()` waits for, and the one way to run
 * a command (bounded by `commandTimeoutMs`, its errors turned into `AgentrixError`s).
 */
export class RedisBusContext {
  readonly client: RedisClientLike;
  readonly ownsClient: boolean;
  /** An ioredis `Cluster`: batch scripts go one per slot, with their keys declared. */
  readonly cluster: boolean;
  readonly keys: RedisKeys;
  readonly group: string;
  readonly clock: Clock;
  readonly generateId: IdGenerator;
  readonly events: AgentrixEvents | undefined;
  readonly logger: Logger;
  readonly consumer: string;
  readonly leaseMs: number;
  readonly maxDeliveries: number;
  readonly maxMessageBytes: number;
  readonly dedupeWindow: number;
  readonly deadLetterMaxLength: number;
  readonly commandTimeoutMs: number;
  readonly subscriptionIdleMs: number;
  /** Names this bus in hand-offs (see the send script): only this bus takes what is handed to it. */
  readonly token = randomUUID();
  closed = false;
  /** Reads in flight (pumps, non-blocking reads, give-backs), awaited by `close()`. */
  readonly running = new Set<Promise<unknown>>();
  /** When the command connection was lost (clock time), while it is down; for the outage log lines. */
  #downSince: number | undefined;

  constructor(client: RedisClientLike, resolved: ResolvedRedisStreamsBusOptions) {
    this.client = client;
    this.ownsClient = ownedClients.has(client);
    this.cluster = client.isCluster === true;
    this.keys = new RedisKeys(resolved.keyPrefix, resolved.namespace);
    this.group = resolved.consumerGroup;
    this.clock = resolved.clock;
    this.generateId = resolved.generateId;
    this.events = resolved.events;
    this.logger = resolved.logger;
    this.consumer = resolved.consumer;
    this.leaseMs = resolved.leaseMs;
    this.maxDeliveries = resolved.maxDeliveries;
    this.maxMessageBytes = resolved.maxMessageBytes;
    this.dedupeWindow = resolved.dedupeWindow;
    this.deadLetterMaxLength = resolved.deadLetterMaxLength;
    this.commandTimeoutMs = resolved.commandTimeoutMs;
    this.subscriptionIdleMs = resolved.subscriptionIdleMs;
    client.on('close', this.#onConnectionLost);
    client.on('ready', this.#onConnectionBack);
  }

  /** Keeps `promise` among the work `close()` waits for until it settles. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.running.add(promise);
    const forget = () => this.running.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /** Runs one command within `commandTimeoutMs`; a failure names the operation, the inbox or group, and on a cluster the slot. */
  async call<T>(operation: string, where: string, run: () => Promise<T>): Promise<T> {
    try {
      return await withDeadline(run(), this.commandTimeoutMs);
    } catch (error) {
      const slot = this.cluster
        ? GROUP_OPERATIONS.has(operation)
          ? keySlot(this.keys.groups)
          : this.keys.inbox(where).slot
        : -1;
      throw redisError(error, operation, this.located(where, slot));
    }
  }

  /** `where`, and on a cluster the slot and the node that serves it (in the client's slot map). */
  located(where: string, slot: number): string {
    if (!this.cluster) return where;
    const node = this.client.slots?.[slot]?.[0];
    return `${where}, slot ${slot} on ${node ?? 'no known node'}`;
  }

  /** Stops logging outages, and closes the client only when `createRedisBus` opened it from a URL. */
  async release(): Promise<void> {
    this.client.off('close', this.#onConnectionLost);
    this.client.off('ready', this.#onConnectionBack);
    if (!this.ownsClient) return;
    // A ref'd grace timer: `close()` awaits it, so it must keep Node alive (a QUIT queued on a dead
    // connection holds no handle of its own), and it is cleared as soon as the QUIT answers.
    let grace: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.client.quit(),
        new Promise((_, reject) => {
          grace = setTimeout(() => reject(new Error('QUIT timed out')), CLOSE_GRACE_MS);
        }),
      ]);
    } catch {
      this.client.disconnect();
    } finally {
      clearTimeout(grace);
    }
  }

  /** The command connection closed: logged once per outage (ioredis reconnects and emits 'close' per attempt). */
  readonly #onConnectionLost = (): void => {
    if (this.closed || this.#downSince !== undefined) return;
    this.#downSince = this.clock.now();
    this.logger.warn(
      { commandTimeoutMs: this.commandTimeoutMs },
      'RedisStreamsBus lost its Redis connection: calls wait up to commandTimeoutMs for it, then fail with BUS_UNAVAILABLE; blocked reads resume once it is back',
    );
  };

  readonly #onConnectionBack = (): void => {
    if (this.closed || this.#downSince === undefined) return;
    const downMs = this.clock.now() - this.#downSince;
    this.#downSince = undefined;
    this.logger.info({ downMs }, 'RedisStreamsBus has its Redis connection back');
  };
}
