import {
  AgentrixError,
  type BroadcastInput,
  type DeadLetter,
  type Delivery,
  type InboxStats,
  type MessageBus,
  type MessageEnvelope,
  type NackOptions,
  type ReadOptions,
  type RedriveOptions,
  type SendInput,
} from '@agentrix/core';
import {
  busClosed,
  checkMessageSize,
  checkSendInput,
  completeEnvelope,
  DEFAULT_DEAD_LETTER_LIMIT,
  invalidArgument,
  parseBroadcastInput,
  positiveLimit,
  resolveReadOptions,
  validateAddress,
} from '@agentrix/core/implement';
import { closeFailure } from './implement/blocked-reads.js';
import { CLOSE_GRACE_MS, RedisBusContext } from './redis-bus-context.js';
import { type RawDeadLetter, RedisDeadLetters } from './redis-dead-letters.js';
import { isEntryId, parseEnvelope } from './redis-entries.js';
import { RedisGroups } from './redis-groups.js';
import { RedisInboxReader } from './redis-inbox-reader.js';
import { RELEASED_CONSUMER, RedisLeaseManager } from './redis-lease-manager.js';
import { statsScript } from './redis-lease-scripts.js';
import { RedisReaderPump } from './redis-reader-pump.js';
import { RedisScriptBatches, type SendItem } from './redis-script-batches.js';
import { type RedisStreamsBusOptions, resolveRedisStreamsBusOptions } from './redis-streams-bus-options.js';
import { RedisWakeHub } from './redis-wake-hub.js';

/** True when every id can be a delivery id (the usual ack: no copy needed). */
function allEntryIds(ids: readonly string[]): boolean {
  for (const id of ids) if (!isEntryId(id)) return false;
  return true;
}

/**
 * A {@link MessageBus} over Redis Streams consumer groups: durable inboxes shared by any number
 * of processes and machines.
 *
 * - One stream per inbox; one consumer group (`consumerGroup`) on each, so every message goes to
 *   one reader whichever process it runs in. Every operation is one Lua script, atomic on the server.
 * - `ack` is `XACK`; the acked entries at the head of the stream are trimmed (`XTRIM MINID` to the
 *   oldest delivery in flight) every 16 acks of an inbox and by every read that drains it, so
 *   nothing unacked is ever trimmed away.
 * - Leases are Redis idle times: a delivery idle for `leaseMs` is claimed (`XCLAIM`) by the next
 *   read, with `attempt` = Redis's delivery count. `nack` and `releaseConsumer` park deliveries on
 *   a reserved consumer with a huge idle time, so the next read claims them first (delivery id,
 *   i.e. the entry id, and attempt count kept). After `maxDeliveries` a message moves to the
 *   inbox's dead-letter stream with its last error.
 * - Blocked reads hold no connection each: one pub/sub connection per bus subscribes to the wake
 *   channels of the inboxes that have local blocked readers; every write that makes something
 *   readable publishes there, and the woken inbox is read with a non-blocking script.
 *
 * The parts, one file each: key names (`redis-keys.ts`), Lua scripts (`redis-scripts.ts`, sent
 * by `redis-script-command.ts`), the batches of the hot path (`redis-script-batches.ts`), leases
 * (`redis-lease-manager.ts`), dead letters (`redis-dead-letters.ts`), groups (`redis-groups.ts`),
 * wake-ups (`redis-wake-hub.ts`), and the blocked reads: the loop per inbox
 * (`redis-reader-pump.ts`), hand-offs (`redis-handoff.ts`) and what an ack fetches ahead
 * (`redis-prefetch-cache.ts`).
 *
 * A client passed in is never closed; the bus closes only the subscriber connection it opened
 * (and the client `createRedisBus` opened from a URL).
 */
export class RedisStreamsBus implements MessageBus {
  readonly #context: RedisBusContext;
  readonly #hub: RedisWakeHub;
  readonly #batches: RedisScriptBatches;
  readonly #deadLetters: RedisDeadLetters;
  readonly #leases: RedisLeaseManager;
  readonly #groups: RedisGroups;
  readonly #readers: RedisReaderPump;
  #closing: Promise<void> | undefined;

  constructor(options: RedisStreamsBusOptions) {
    const client = options?.client;
    if (client === undefined || client === null || typeof client.call !== 'function') {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        'RedisStreamsBus needs options.client, a connected ioredis client (or use createRedisBus({ url }))',
      );
    }
    const context = new RedisBusContext(client, resolveRedisStreamsBusOptions(options));
    this.#context = context;
    this.#hub = new RedisWakeHub({
      createSubscriber: () =>
        context.cluster
          ? client.duplicate([], { enableAutoPipelining: false, lazyConnect: false })
          : client.duplicate({ autoResubscribe: true, enableAutoPipelining: false, lazyConnect: false }),
      channelPrefix: context.keys.wakePrefix,
      clock: context.clock,
      logger: context.logger,
      idleMs: context.subscriptionIdleMs,
      onWake: (inbox, message) => this.#readers.onWake(inbox, message),
      onReconnect: () => this.#readers.onReconnect(),
      isBusy: (inbox) => this.#readers.isBusy(inbox),
      // Called only for inboxes `isBusy` just found idle.
      onForget: (inbox) => this.#readers.forget(inbox),
    });
    this.#batches = new RedisScriptBatches(context);
    this.#deadLetters = new RedisDeadLetters(context);
    this.#leases = new RedisLeaseManager(context, this.#hub, this.#deadLetters);
    this.#groups = new RedisGroups(context);
    const reader = new RedisInboxReader(context, this.#batches, this.#leases, this.#deadLetters);
    this.#readers = new RedisReaderPump(context, {
      hub: this.#hub,
      batches: this.#batches,
      reader,
      leases: this.#leases,
      deadLetters: this.#deadLetters,
    });
  }

  /** How long a delivery stays leased to its reader without an ack or `extendLease` (Redis idle time). */
  get leaseMs(): number {
    return this.#context.leaseMs;
  }

  /** Deliveries of a message before it moves to dead letter. */
  get maxDeliveries(): number {
    return this.#context.maxDeliveries;
  }

  /** How many inboxes this bus listens to for wake-ups (one pub/sub connection for all of them). */
  get wakeSubscriptions(): number {
    return this.#hub.subscriptions;
  }

  // ---------------------------------------------------------------- sending

  /**
   * Appends a message to `input.to`. A repeated explicit `id` or `externalId` (within
   * `dedupeWindow` per inbox, remembered in Redis) is not appended again: the original envelope
   * is returned.
   */
  send(input: SendInput): Promise<MessageEnvelope> {
    try {
      this.#assertOpen('send');
      const message = checkSendInput(input, this.#context.maxMessageBytes);
      const explicitId = message.id;
      return this.#append(
        completeEnvelope(message, this.#context.generateId, this.#context.clock.now()),
        explicitId,
        message.externalId,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A copy to every member's inbox (in join order), each with its own generated id, `to` set to
   * the member and `group` set to the group. An explicit `id` or `externalId` de-duplicates per
   * member inbox, so a broadcast retried after a failure reaches each member once.
   */
  async broadcast(input: BroadcastInput): Promise<MessageEnvelope[]> {
    this.#assertOpen('broadcast');
    const message = parseBroadcastInput(input);
    const members = await this.#groups.membersInJoinOrder(message.group, 'broadcast');
    checkMessageSize(message.content, message.data, this.#context.maxMessageBytes, message.group);
    const type = message.type ?? 'message';
    const createdAt = this.#context.clock.now();
    return Promise.all(
      members.map((member) =>
        this.#append(
          { ...message, id: this.#context.generateId(), to: member, type, createdAt },
          message.id,
          message.externalId,
        ),
      ),
    );
  }

  #append(
    envelope: MessageEnvelope,
    explicitId: string | undefined,
    externalId: string | undefined,
  ): Promise<MessageEnvelope> {
    const item: SendItem = {
      inbox: envelope.to,
      envelope: JSON.stringify(envelope),
      explicitId: explicitId ?? '',
      externalId: externalId ?? '',
    };
    // A blocked reader of the inbox here just left: its arm is taken back first (see `leaving`).
    const leaving = this.#readers.leaving(item.inbox);
    const sent = leaving === undefined ? this.#batches.send(item) : leaving.then(() => this.#batches.send(item));
    return sent.then((reply) => {
      if (reply !== 1) return parseEnvelope(reply[1]) ?? envelope;
      const events = this.#context.events;
      if (events?.has('message.sent')) events.emit('message.sent', { envelope });
      return envelope;
    });
  }

  // ---------------------------------------------------------------- reading

  /**
   * Up to `max` deliveries for `consumer`: expired, nacked and released deliveries first (entry
   * order), then unread messages in send order. When there are none, `blockMs: 0` returns `[]`,
   * a number waits up to that long and then returns `[]`, and `undefined` waits until a message
   * arrives. A wait holds no connection: it is woken through the bus's one pub/sub connection.
   *
   * An `AbortSignal` that fires rejects with `ABORTED` at once, even while Redis does not answer,
   * and takes nothing: deliveries Redis hands to the read after that are given back (attempt
   * counts kept) as soon as its reply comes. `close()` resolves blocked reads with `[]`. Redis
   * errors while blocked are retried (the read keeps waiting across a Redis restart); with
   * `blockMs: 0` they reject with `BUS_UNAVAILABLE` (at the latest after `commandTimeoutMs`).
   */
  read(inbox: string, options?: ReadOptions): Promise<Delivery[]> {
    try {
      this.#assertOpen('read');
      validateAddress(inbox, 'inbox');
      const { consumer, max, blockMs, signal } = resolveReadOptions(options, this.#context.consumer);
      if (consumer === RELEASED_CONSUMER) {
        throw invalidArgument(`read consumer "${RELEASED_CONSUMER}" is reserved by RedisStreamsBus; pick another name`);
      }
      return this.#readers.read(inbox, consumer, max, blockMs, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Acks deliveries (their entries are trimmed from the stream soon after). Unknown ids (already acked, dropped inbox, not an entry id) are ignored.
   *
   * When a reader loop of this bus blocks on the inbox between messages (the runtime's agents
   * do), the same script also fetches that reader's next message (four when the inbox has a
   * backlog and the reader's turns are short), which its next `read` then gets without a round
   * trip (or, when the inbox is drained, arms it for a hand-off). A fetched message its reader does
   * not come back for within a moment is given back, attempt count kept.
   */
  ack(inbox: string, deliveryIds: readonly string[]): Promise<void> {
    try {
      this.#assertOpen('ack');
      validateAddress(inbox, 'inbox');
      const ids = allEntryIds(deliveryIds) ? deliveryIds : deliveryIds.filter(isEntryId);
      if (ids.length === 0) return Promise.resolve();
      return this.#readers.ack(inbox, ids);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `ack`: a Redis ack is a round trip, never done at once. */
  ackNow(inbox: string, deliveryIds: readonly string[]): Promise<void> {
    return this.ack(inbox, deliveryIds);
  }

  /** `send`: this bus's sends need I/O, so there is always its promise to wait for. */
  sendNow(input: SendInput): Promise<MessageEnvelope> {
    return this.send(input);
  }

  /**
   * Restarts the lease (the Redis idle time) of deliveries `consumer` (default: the bus's own)
   * still holds; returns how many it held. A delivery already claimed by another reader is not
   * taken back.
   */
  async extendLease(inbox: string, deliveryIds: readonly string[], options?: { consumer?: string }): Promise<number> {
    this.#assertOpen('extendLease');
    validateAddress(inbox, 'inbox');
    return this.#leases.extend(inbox, deliveryIds, options?.consumer ?? this.#context.consumer);
  }

  /**
   * Gives a delivery back for immediate redelivery (ahead of unread messages), keeping its delivery
   * id and attempt count and recording `serializeError(error)` as its last error; when it has had
   * `maxDeliveries` deliveries it moves to dead letter at once. Unknown ids are ignored.
   */
  async nack(inbox: string, deliveryId: string, options?: NackOptions): Promise<void> {
    this.#assertOpen('nack');
    validateAddress(inbox, 'inbox');
    // Sent before the nack on the same connection: parked first, claimed after the nacked one.
    this.#readers.giveBackHeld(inbox);
    await this.#leases.nack(inbox, deliveryId, options);
  }

  /** Makes every delivery held by `consumer` available again at once (the consumer died). */
  async releaseConsumer(inbox: string, consumer: string): Promise<number> {
    this.#assertOpen('releaseConsumer');
    validateAddress(inbox, 'inbox');
    if (typeof consumer !== 'string' || consumer.length === 0 || consumer === RELEASED_CONSUMER) return 0;
    this.#readers.dropHeld(inbox, consumer);
    return this.#leases.release(inbox, consumer);
  }

  // ---------------------------------------------------------------- inbox management

  /**
   * `unread` counts new, nacked, released and lease-expired deliveries; `inFlight` the ones held
   * within their lease. Spent expired deliveries are moved to dead letter first, as a read would.
   */
  async stats(inbox: string): Promise<InboxStats> {
    this.#assertOpen('stats');
    validateAddress(inbox, 'inbox');
    const context = this.#context;
    const keys = context.keys.inbox(inbox);
    const reply = (await context.call('stats', inbox, () =>
      statsScript.run(
        context.client,
        [keys.stream, keys.errors, keys.dead],
        [context.group, context.leaseMs, context.maxDeliveries, context.clock.now(), context.deadLetterMaxLength],
      ),
    )) as [number, number, number, RawDeadLetter[]];
    this.#deadLetters.announce(inbox, reply[3]);
    return { unread: reply[0], inFlight: reply[1], deadLetters: reply[2] };
  }

  /** The oldest dead letters first, at most `limit` (default 100). */
  async deadLetters(inbox: string, options?: { limit?: number }): Promise<DeadLetter[]> {
    this.#assertOpen('deadLetters');
    validateAddress(inbox, 'inbox');
    const limit = positiveLimit(options?.limit, DEFAULT_DEAD_LETTER_LIMIT, 'deadLetters');
    return this.#deadLetters.list(inbox, limit);
  }

  /**
   * Moves the oldest dead letters (all, or those of `ids`, at most `limit`) back to the inbox as
   * new messages (new delivery ids, attempt 1 next).
   */
  async redrive(inbox: string, options?: RedriveOptions): Promise<number> {
    this.#assertOpen('redrive');
    validateAddress(inbox, 'inbox');
    const limit = positiveLimit(options?.limit, Number.POSITIVE_INFINITY, 'redrive');
    const moved = await this.#deadLetters.redrive(inbox, options, limit);
    this.#hub.invalidate(inbox);
    return moved;
  }

  /** Deletes the dead letters of these message ids (one XDEL: an entry deleted meanwhile counts 0). */
  async discardDeadLetters(inbox: string, ids: readonly string[]): Promise<number> {
    this.#assertOpen('discardDeadLetters');
    validateAddress(inbox, 'inbox');
    return this.#deadLetters.discard(inbox, ids);
  }

  /** Drops every message of the inbox (unread, in flight, dead) and its de-duplication memory. */
  async deleteInbox(inbox: string): Promise<void> {
    this.#assertOpen('deleteInbox');
    validateAddress(inbox, 'inbox');
    const { client, keys: names } = this.#context;
    const keys = names.inbox(inbox);
    this.#readers.dropHeld(inbox, undefined);
    await this.#context.call('deleteInbox', inbox, () =>
      client.call(
        'DEL',
        keys.stream,
        keys.errors,
        keys.dead,
        keys.seen,
        keys.seenIds,
        keys.seenExternal,
        keys.armed,
        keys.reclaim,
      ),
    );
    this.#hub.invalidate(inbox);
  }

  // ---------------------------------------------------------------- groups

  /** Creates an empty group; creating an existing group changes nothing. */
  async createGroup(group: string): Promise<void> {
    this.#assertOpen('createGroup');
    await this.#groups.create(group);
  }

  async deleteGroup(group: string): Promise<void> {
    this.#assertOpen('deleteGroup');
    await this.#groups.delete(group);
  }

  /** Adds `member` (an inbox address); joining twice changes nothing. */
  async join(group: string, member: string): Promise<void> {
    this.#assertOpen('join');
    await this.#groups.join(group, member);
  }

  /** Removes `member`; leaving a group one is not in changes nothing. The group stays. */
  async leave(group: string, member: string): Promise<void> {
    this.#assertOpen('leave');
    await this.#groups.leave(group, member);
  }

  /** Members sorted by code unit order (not join order), so every bus lists them alike. */
  async members(group: string): Promise<string[]> {
    this.#assertOpen('members');
    return (await this.#groups.membersInJoinOrder(group, 'members')).sort();
  }

  /** Group names, sorted. */
  async groups(): Promise<string[]> {
    this.#assertOpen('groups');
    return this.#groups.names();
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Resolves every blocked read with `[]`, lets reads in flight hand back what they took, closes
   * the wake-up connection, and closes the client only when `createRedisBus` opened it from a URL.
   * Returns the same promise when called again; every other method then rejects with `CLOSED`.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#context.closed = true;
    this.#closing = this.#shutdown();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(): Promise<void> {
    const failures: unknown[] = [];
    const context = this.#context;
    this.#readers.shutdown(failures);
    // Whatever was queued this tick goes out before the connections close.
    this.#batches.flush();
    if (context.running.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...context.running]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, CLOSE_GRACE_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    try {
      await this.#hub.close();
    } catch (error) {
      failures.push(error);
    }
    await context.release();
    const failure = closeFailure('RedisStreamsBus', failures);
    if (failure !== undefined) throw failure;
  }

  #assertOpen(operation: string): void {
    if (this.#context.closed) throw busClosed('RedisStreamsBus', operation);
  }
}
