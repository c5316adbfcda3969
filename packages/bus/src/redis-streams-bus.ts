import { randomUUID } from 'node:crypto';
import {
  AgentrixError,
  type AgentrixEvents,
  armBlockedRead,
  BACKGROUND_TIMER,
  type BlockedRead,
  type BroadcastInput,
  busClosed,
  type Clock,
  checkMessageSize,
  checkSendInput,
  completeEnvelope,
  type DeadLetter,
  type Delivery,
  groupNotFound,
  type IdGenerator,
  type InboxStats,
  invalidArgument,
  type Logger,
  type MessageBus,
  type MessageEnvelope,
  messageIds,
  type NackOptions,
  parseBroadcastInput,
  positiveLimit,
  type ReadOptions,
  type RedriveOptions,
  resolveReadOptions,
  type SendInput,
  type SerializedError,
  serializeError,
  settleBlockedRead,
  type TimerHandle,
  untilAborted,
  validateAddress,
} from '@agentrix/core';
import { RedisBatcher } from './redis-batcher.js';
import { type RedisClientLike, redisError, withDeadline } from './redis-client.js';
import {
  isEntryId,
  malformedEnvelope,
  NO_ENVELOPE_ERROR,
  NOT_AN_ENVELOPE_ERROR,
  parseEnvelope,
  parseError,
  toDeadLetter,
} from './redis-entries.js';
import { type InboxKeys, RedisKeys } from './redis-keys.js';
import {
  deadLetterScript,
  deleteGroupScript,
  disarmScript,
  extendLeaseScript,
  giveBackScript,
  joinScript,
  leaveScript,
  membersScript,
  nackScript,
  READ_CHECK_LEASES,
  READ_HANDOFF,
  READ_WANT_HINT,
  readBatchScript,
  redriveEntriesScript,
  redriveScript,
  releaseScript,
  sendBatchScript,
  statsScript,
} from './redis-scripts.js';
import { keySlot } from './redis-slot.js';
import { type RedisStreamsBusOptions, resolveRedisStreamsBusOptions } from './redis-streams-bus-options.js';
import { RedisWakeHub } from './redis-wake-hub.js';

/** Default `max` of `read`. */
/** Dead letters per redrive script or per page of a search by message id. */
const DEAD_LETTER_PAGE = 1000;
/** Default `limit` of `deadLetters`. */
const DEFAULT_DEAD_LETTER_LIMIT = 100;
/** Longest delay a platform timer takes; a longer `blockMs` waits without a timer. */
/** The Redis consumer that holds nacked and released deliveries until the next read claims them. */
const RELEASED_CONSUMER = 'agentrix:released';
/** Idle time given to parked deliveries (about 10 years): any read's `XPENDING IDLE leaseMs` finds them. */
const PARKED_IDLE_MS = 315_360_000_000;
/** Blocked reads that meet a Redis error retry after this long, doubling up to the maximum. */
const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 2_000;
/** How long `close()` waits for reads in flight to hand back what they took. */
const CLOSE_GRACE_MS = 2_000;
/** Longest time between two looks for expired leases of one inbox by the reads of one process. */
const LEASE_CHECK_MAX_MS = 1_000;
/** Inboxes whose last lease check is remembered; past that the memory starts over (checks happen early, not late). */
const LEASE_CHECK_MEMORY = 50_000;
/**
 * Most sends, reads (inboxes) and acks (inboxes) in one batch script. Small batches keep Node and
 * Redis busy at the same time: while Redis runs one batch, Node handles the replies of the one
 * before (bench/bus: 24 per batch sustained about 1.4x the throughput of 128).
 */
const MAX_SEND_BATCH = 24;
const MAX_READ_BATCH = 24;
/**
 * How long a message fetched with an ack (or handed off between two reads) waits for its
 * reader's next `read` before it is given back; capped at a quarter of the lease.
 */
const PREFETCH_HOLD_MAX_MS = 200;

/** Clients created by `createRedisBus` from a URL: the bus owns (and closes) them. */
const ownedClients = new WeakSet<RedisClientLike>();

/** Marks a client as owned by the bus about to be created with it (used by `createRedisBus`). */
export function markClientOwned(client: RedisClientLike): void {
  ownedClients.add(client);
}

interface Waiter extends BlockedRead {
  readonly consumer: string;
  readonly max: number;
  readonly box: WaitingInbox;
  active: boolean;
}

/**
 * Local readers of one inbox: the blocked reads and the loop that feeds them, and what a reader
 * loop's ack fetched for its next read. Kept while the wake-up hub listens to the inbox.
 */
interface WaitingInbox {
  readonly name: string;
  readonly keys: InboxKeys;
  readonly waiters: Waiter[];
  /** Consumer of the last blocked read: the reader loop an ack fetches the next message for. */
  lastConsumer: string | undefined;
  /** Deliveries held for `lastConsumer`'s next read (fetched with its ack, or handed off between reads). */
  prefetched: Delivery[] | undefined;
  /** When `prefetched` (or an arm made by an ack) is given up if the reader has not come back; 0: nothing held. */
  holdUntil: number;
  pumping: boolean;
  dirty: boolean;
  /** The next read must look for expired leases (a lease-end timer fired). */
  checkLeases: boolean;
  /**
   * The consumer a drained read of this inbox armed a hand-off for (the next send hands its
   * message to that consumer of this bus in the wake-up); undefined once any wake-up came.
   */
  armedFor: string | undefined;
  timer: TimerHandle | undefined;
  hasTimer: boolean;
  failures: number;
}

interface ReadResult {
  deliveries: Delivery[];
  /** Milliseconds until the earliest in-flight lease of the inbox ends; -1 for none. */
  hintMs: number;
  /** False when the read drained the inbox (and armed it: the next send publishes a wake-up). */
  more: boolean;
}

interface SendItem {
  readonly inbox: string;
  readonly envelope: string;
  readonly explicitId: string;
  readonly externalId: string;
}

interface ReadItem {
  readonly inbox: string;
  /** '' with max 0: an ack only. */
  readonly consumer: string;
  readonly max: number;
  /** READ_WANT_HINT | READ_CHECK_LEASES | READ_HANDOFF */
  readonly flags: number;
  /** Entry ids acked before reading. */
  readonly ack: readonly string[];
}

const NO_KEYS: readonly string[] = [];
const NO_IDS: readonly string[] = [];
/** `h`: a wake-up that carries a message handed off to a blocked reader. */
const HANDOFF_MARK = 104;

type RawDelivery = [entryId: string, attempt: number, envelope: string, lastError: string];
type RawDeadLetter = [kind: string, payload: string, attempts: number, error: string];
/** One inbox's part of a read reply: 1, hintMs, more, deadCount, 4 per dead letter, 4 per delivery (see the read script). */
type RawRead = Array<string | number>;

function ignore(): void {}

/** Operations on groups (the `{groups}` keys) rather than on one inbox. */
const GROUP_OPERATIONS = new Set(['createGroup', 'deleteGroup', 'join', 'leave', 'groups', 'members', 'broadcast']);

/** Keys the send script touches for one inbox (declared on a cluster). */
function sendKeys(keys: InboxKeys): readonly string[] {
  return [keys.stream, keys.seen, keys.seenIds, keys.seenExternal, keys.armed];
}

/** Keys the read script touches for one inbox (declared on a cluster). */
function readKeys(keys: InboxKeys): readonly string[] {
  return [keys.stream, keys.errors, keys.dead, keys.reclaim, keys.armed];
}

/** A quarter of the lease, between 1 ms and `cap`. */
function quarterLease(leaseMs: number, cap: number): number {
  return Math.max(1, Math.min(cap, Math.floor(leaseMs / 4)));
}

/** Flags of a read for a blocked reader: a hint, and a hand-off unless the consumer name cannot carry one. */
function blockedReadFlags(consumer: string): number {
  // A hand-off names the consumer after a line break: a name with one gets plain wake-ups.
  return consumer.includes('\n') ? READ_WANT_HINT : READ_WANT_HINT | READ_HANDOFF;
}

/** True when every id can be a delivery id (the usual ack: no copy needed). */
function allEntryIds(ids: readonly string[]): boolean {
  for (const id of ids) if (!isEntryId(id)) return false;
  return true;
}

/** A per-item failure of a batch script (Redis refused one inbox's part): INTERNAL, like a refused script. */
function itemError(reply: unknown): Error | undefined {
  if (!Array.isArray(reply) || reply[0] !== -1) return undefined;
  const error = new Error(String(reply[1]));
  error.name = 'ReplyError';
  return error;
}

/**
 * A {@link MessageBus} over Redis Streams consumer groups: durable inboxes shared by any number
 * of processes and machines.
 *
 * - One stream per inbox; one consumer group (`consumerGroup`) on each, so every message goes to
 *   one reader whichever process it runs in. Every operation is one Lua script, atomic on the server.
 * - `ack` is `XACK` + `XDEL`: a stream holds exactly the unacked messages, so it never needs
 *   trimming and nothing unacked is ever trimmed away.
 * - Leases are Redis idle times: a delivery idle for `leaseMs` is claimed (`XCLAIM`) by the next
 *   read, with `attempt` = Redis's delivery count. `nack` and `releaseConsumer` park deliveries on
 *   a reserved consumer with a huge idle time, so the next read claims them first (delivery id,
 *   i.e. the entry id, and attempt count kept). After `maxDeliveries` a message moves to the
 *   inbox's dead-letter stream with its last error.
 * - Blocked reads hold no connection each: one pub/sub connection per bus subscribes to the wake
 *   channels of the inboxes that have local blocked readers; every write that makes something
 *   readable publishes there, and the woken inbox is read with a non-blocking script.
 *
 * A client passed in is never closed; the bus closes only the subscriber connection it opened
 * (and the client `createRedisBus` opened from a URL).
 */
export class RedisStreamsBus implements MessageBus {
  readonly #client: RedisClientLike;
  readonly #ownsClient: boolean;
  /** An ioredis `Cluster`: batch scripts go one per slot, with their keys declared. */
  readonly #cluster: boolean;
  readonly #keys: RedisKeys;
  readonly #group: string;
  readonly #clock: Clock;
  readonly #generateId: IdGenerator;
  readonly #events: AgentrixEvents | undefined;
  readonly #logger: Logger;
  readonly #consumer: string;
  readonly #leaseMs: number;
  readonly #maxDeliveries: number;
  readonly #maxMessageBytes: number;
  readonly #dedupeWindow: number;
  readonly #deadLetterMaxLength: number;
  readonly #commandTimeoutMs: number;
  readonly #hub: RedisWakeHub;
  /** Names this bus in hand-offs (see the send script): only this bus takes what is handed to it. */
  readonly #token = randomUUID();
  readonly #sends: RedisBatcher<SendItem, 1 | [0, string]>;
  /** Reads and acks (one script for both). */
  readonly #reads: RedisBatcher<ReadItem, RawRead>;
  readonly #holdMs: number;
  /** Boxes holding something for their reader (see #armHoldTimer), and the one timer that sweeps them. */
  readonly #holding = new Set<WaitingInbox>();
  #holdSweep: TimerHandle | undefined;
  #hasHoldSweep = false;

  readonly #waiting = new Map<string, WaitingInbox>();
  /**
   * When this process last had a read look for expired leases, per inbox. Reads look at most every
   * `#leaseCheckMs` (a quarter of the lease, at most a second), so an expired lease is found within
   * that long of its end under load; a blocked reader's timer finds it at its end.
   */
  readonly #leaseCheckedAt = new Map<string, number>();
  readonly #leaseCheckMs: number;
  /** Reads in flight (pumps and non-blocking reads), awaited by `close()`. */
  readonly #running = new Set<Promise<unknown>>();
  #closed = false;
  #closing: Promise<void> | undefined;
  /** When the command connection was lost (clock time), while it is down; for the outage log lines. */
  #downSince: number | undefined;

  constructor(options: RedisStreamsBusOptions) {
    const client = options?.client;
    if (client === undefined || client === null || typeof client.call !== 'function') {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        'RedisStreamsBus needs options.client, a connected ioredis client (or use createRedisBus({ url }))',
      );
    }
    const resolved = resolveRedisStreamsBusOptions(options);
    this.#client = client;
    this.#ownsClient = ownedClients.has(client);
    this.#cluster = client.isCluster === true;
    this.#keys = new RedisKeys(resolved.keyPrefix, resolved.namespace);
    this.#group = resolved.consumerGroup;
    this.#clock = resolved.clock;
    this.#generateId = resolved.generateId;
    this.#events = resolved.events;
    this.#logger = resolved.logger;
    this.#consumer = resolved.consumer;
    this.#leaseMs = resolved.leaseMs;
    this.#leaseCheckMs = quarterLease(resolved.leaseMs, LEASE_CHECK_MAX_MS);
    this.#holdMs = quarterLease(resolved.leaseMs, PREFETCH_HOLD_MAX_MS);
    this.#maxDeliveries = resolved.maxDeliveries;
    this.#maxMessageBytes = resolved.maxMessageBytes;
    this.#dedupeWindow = resolved.dedupeWindow;
    this.#deadLetterMaxLength = resolved.deadLetterMaxLength;
    this.#commandTimeoutMs = resolved.commandTimeoutMs;
    client.on('close', this.#onConnectionLost);
    client.on('ready', this.#onConnectionBack);
    this.#hub = new RedisWakeHub({
      createSubscriber: () =>
        this.#cluster
          ? client.duplicate([], { enableAutoPipelining: false, lazyConnect: false })
          : client.duplicate({ autoResubscribe: true, enableAutoPipelining: false, lazyConnect: false }),
      channelPrefix: this.#keys.wakePrefix,
      clock: this.#clock,
      logger: this.#logger,
      idleMs: resolved.subscriptionIdleMs,
      onWake: (inbox, message) => {
        const box = this.#waiting.get(inbox);
        if (box !== undefined) box.armedFor = undefined;
        if (message.charCodeAt(0) === HANDOFF_MARK && this.#takeHandoff(inbox, box, message)) return;
        if (box !== undefined) this.#pump(box);
      },
      onReconnect: () => {
        for (const box of this.#waiting.values()) this.#pump(box);
      },
      isBusy: (inbox) => {
        const box = this.#waiting.get(inbox);
        return box !== undefined && (box.waiters.length > 0 || box.pumping || box.holdUntil !== 0);
      },
      // Called only for inboxes `isBusy` just found idle.
      onForget: (inbox) => this.#waiting.delete(inbox),
    });
    this.#sends = new RedisBatcher(
      MAX_SEND_BATCH,
      (items) => this.#runSends(items),
      (error, item) => redisError(error, 'send', this.#located(item.inbox, this.#keys.inbox(item.inbox).slot)),
    );
    this.#reads = new RedisBatcher(
      MAX_READ_BATCH,
      (items) => this.#runReads(items),
      (error, item) =>
        redisError(
          error,
          item.max === 0 ? 'ack' : 'read',
          this.#located(item.inbox, this.#keys.inbox(item.inbox).slot),
        ),
    );
  }

  /** How long a delivery stays leased to its reader without an ack or `extendLease` (Redis idle time). */
  get leaseMs(): number {
    return this.#leaseMs;
  }

  /** Deliveries of a message before it moves to dead letter. */
  get maxDeliveries(): number {
    return this.#maxDeliveries;
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
      const message = checkSendInput(input, this.#maxMessageBytes);
      const explicitId = message.id;
      return this.#append(
        completeEnvelope(message, this.#generateId, this.#clock.now()),
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
    const members = await this.#membersInJoinOrder(message.group, 'broadcast');
    checkMessageSize(message.content, message.data, this.#maxMessageBytes, message.group);
    const type = message.type ?? 'message';
    const createdAt = this.#clock.now();
    return Promise.all(
      members.map((member) =>
        this.#append(
          { ...message, id: this.#generateId(), to: member, type, createdAt },
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
    return this.#sends.add(item).then((reply) => {
      if (reply !== 1) return parseEnvelope(reply[1]) ?? envelope;
      if (this.#events?.has('message.sent')) this.#events.emit('message.sent', { envelope });
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
      const { consumer, max, blockMs, signal } = resolveReadOptions(options, this.#consumer);
      if (consumer === RELEASED_CONSUMER) {
        throw invalidArgument(`read consumer "${RELEASED_CONSUMER}" is reserved by RedisStreamsBus; pick another name`);
      }
      const box = this.#waiting.get(inbox);
      if (box?.prefetched !== undefined && box.lastConsumer === consumer && signal?.aborted !== true) {
        return Promise.resolve(this.#takePrefetched(box, max));
      }
      if (blockMs === 0) return this.#readNow(inbox, consumer, max, signal);
      return this.#wait(inbox, consumer, max, blockMs, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Acks and deletes deliveries. Unknown ids (already acked, dropped inbox, not an entry id) are ignored.
   *
   * When a reader loop of this bus blocks on the inbox between messages (the runtime's agents
   * do), the same script also fetches that reader's next message, which its next `read` then
   * gets without a round trip (or, when the inbox is drained, arms it for a hand-off). A fetched
   * message its reader does not come back for within a moment is given back, attempt count kept.
   */
  ack(inbox: string, deliveryIds: readonly string[]): Promise<void> {
    try {
      this.#assertOpen('ack');
      validateAddress(inbox, 'inbox');
      const ids = allEntryIds(deliveryIds) ? deliveryIds : deliveryIds.filter(isEntryId);
      if (ids.length === 0) return Promise.resolve();
      const box = this.#waiting.get(inbox);
      const consumer = box?.lastConsumer;
      if (
        box === undefined ||
        consumer === undefined ||
        box.waiters.length > 0 ||
        box.pumping ||
        box.prefetched !== undefined ||
        box.armedFor !== undefined ||
        !this.#hub.isSubscribed(inbox)
      ) {
        return this.#reads.add({ inbox, consumer: '', max: 0, flags: 0, ack: ids }).then(ignore);
      }
      return this.#ackAndFetch(box, consumer, ids);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #ackAndFetch(box: WaitingInbox, consumer: string, ids: readonly string[]): Promise<void> {
    const issuedAt = this.#hub.sequence;
    const flags = this.#leaseCheckFlag(box.name, blockedReadFlags(consumer));
    // The reader is between reads: nobody else reads for it until this returns.
    box.pumping = true;
    return this.#reads.add({ inbox: box.name, consumer, max: 1, flags, ack: ids }).then(
      (reply) => {
        box.pumping = false;
        const apply = (result: ReadResult) => {
          if (result.deliveries.length > 0) this.#hold(box, result.deliveries);
          else if (!result.more && !this.#closed) {
            this.#hub.markDrained(box.name, issuedAt, result.hintMs < 0 ? -1 : this.#clock.now() + result.hintMs);
            if ((flags & READ_HANDOFF) !== 0) {
              box.armedFor = consumer;
              this.#armHoldTimer(box);
            }
          }
          if (box.waiters.length > 0) this.#pump(box);
        };
        const result = this.#readReply(box.keys, box.name, reply);
        // A promise only when malformed entries are being dead-lettered (then `more` is true).
        if (result instanceof Promise) return result.then(apply);
        apply(result);
      },
      (error: unknown) => {
        box.pumping = false;
        if (box.waiters.length > 0) this.#pump(box);
        throw error;
      },
    );
  }

  /** Keeps deliveries for the reader's next read; given back if it does not come in time. */
  #hold(box: WaitingInbox, deliveries: Delivery[]): void {
    if (this.#closed) {
      this.#track(this.#giveBack(box.keys, box.name, deliveries));
      return;
    }
    if (box.prefetched === undefined) box.prefetched = deliveries;
    else box.prefetched.push(...deliveries);
    // A reader already waiting takes them at once.
    const waiter = box.waiters.find((candidate) => candidate.consumer === box.lastConsumer);
    if (waiter !== undefined) {
      this.#removeWaiter(box, waiter);
      settleBlockedRead(waiter, this.#clock, this.#takePrefetched(box, waiter.max));
      return;
    }
    this.#armHoldTimer(box);
  }

  #takePrefetched(box: WaitingInbox, max: number): Delivery[] {
    const prefetched = box.prefetched ?? [];
    const taken = prefetched.length <= max ? prefetched : prefetched.splice(0, max);
    if (taken === prefetched) box.prefetched = undefined;
    if (box.prefetched === undefined && box.armedFor === undefined) this.#clearHoldTimer(box);
    return taken;
  }

  /**
   * Gives up what is held for the box's reader if it has not come back within the hold time. One
   * timer for the whole bus sweeps the boxes holding something (no timer per message).
   */
  #armHoldTimer(box: WaitingInbox): void {
    if (box.holdUntil !== 0 || this.#closed) return;
    box.holdUntil = this.#clock.now() + this.#holdMs;
    this.#holding.add(box);
    if (!this.#hasHoldSweep) {
      this.#hasHoldSweep = true;
      this.#holdSweep = this.#clock.setTimeout(() => this.#sweepHolds(), this.#holdMs, BACKGROUND_TIMER);
    }
  }

  #clearHoldTimer(box: WaitingInbox): void {
    if (box.holdUntil === 0) return;
    box.holdUntil = 0;
    this.#holding.delete(box);
  }

  #sweepHolds(): void {
    this.#hasHoldSweep = false;
    this.#holdSweep = undefined;
    if (this.#closed) return;
    const now = this.#clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const box of this.#holding) {
      if (box.holdUntil <= now) this.#releaseHeld(box);
      else next = Math.min(next, box.holdUntil);
    }
    if (this.#holding.size > 0) {
      this.#hasHoldSweep = true;
      this.#holdSweep = this.#clock.setTimeout(() => this.#sweepHolds(), Math.max(1, next - now), BACKGROUND_TIMER);
    }
  }

  /** Forgets deliveries held here for `consumer` (any when undefined): Redis no longer leases them to it. */
  #dropHeld(inbox: string, consumer: string | undefined): void {
    const box = this.#waiting.get(inbox);
    if (box?.prefetched === undefined || (consumer !== undefined && box.lastConsumer !== consumer)) return;
    box.prefetched = undefined;
    if (box.armedFor === undefined) this.#clearHoldTimer(box);
  }

  /** The reader did not come back (or the bus is closing): give back what was held for it, disarm. */
  #releaseHeld(box: WaitingInbox): void {
    this.#clearHoldTimer(box);
    const held = box.prefetched;
    box.prefetched = undefined;
    if (held !== undefined && held.length > 0) this.#track(this.#giveBack(box.keys, box.name, held));
    if (box.waiters.length === 0 && box.armedFor !== undefined) this.#track(this.#disarm(box));
  }

  /**
   * Restarts the lease (the Redis idle time) of deliveries `consumer` (default: the bus's own)
   * still holds; returns how many it held. A delivery already claimed by another reader is not
   * taken back.
   */
  async extendLease(inbox: string, deliveryIds: readonly string[], options?: { consumer?: string }): Promise<number> {
    this.#assertOpen('extendLease');
    validateAddress(inbox, 'inbox');
    const consumer = options?.consumer ?? this.#consumer;
    const ids = deliveryIds.filter(isEntryId);
    if (ids.length === 0) return 0;
    const keys = this.#keys.inbox(inbox);
    const held = await this.#redis('extendLease', inbox, () =>
      extendLeaseScript.run(this.#client, [keys.stream], [this.#group, consumer, ...ids]),
    );
    return Number(held);
  }

  /**
   * Gives a delivery back for immediate redelivery (ahead of unread messages), keeping its delivery
   * id and attempt count and recording `serializeError(error)` as its last error; when it has had
   * `maxDeliveries` deliveries it moves to dead letter at once. Unknown ids are ignored.
   */
  async nack(inbox: string, deliveryId: string, options?: NackOptions): Promise<void> {
    this.#assertOpen('nack');
    validateAddress(inbox, 'inbox');
    if (!isEntryId(deliveryId)) return;
    const keys = this.#keys.inbox(inbox);
    this.#hub.invalidate(inbox);
    const errorJson = options?.error === undefined ? '' : JSON.stringify(serializeError(options.error));
    const reply = (await this.#redis('nack', inbox, () =>
      nackScript.run(
        this.#client,
        [keys.stream, keys.errors, keys.dead, keys.reclaim, keys.armed],
        [
          this.#group,
          deliveryId,
          errorJson,
          this.#maxDeliveries,
          this.#clock.now(),
          this.#deadLetterMaxLength,
          RELEASED_CONSUMER,
          PARKED_IDLE_MS,
          keys.wakeChannel,
        ],
      ),
    )) as [number, RawDeadLetter[]?];
    if (reply[0] === 2) this.#announceDeadLetters(inbox, reply[1] ?? []);
    this.#hub.invalidate(inbox);
  }

  /** Makes every delivery held by `consumer` available again at once (the consumer died). */
  async releaseConsumer(inbox: string, consumer: string): Promise<number> {
    this.#assertOpen('releaseConsumer');
    validateAddress(inbox, 'inbox');
    if (typeof consumer !== 'string' || consumer.length === 0 || consumer === RELEASED_CONSUMER) return 0;
    const keys = this.#keys.inbox(inbox);
    this.#dropHeld(inbox, consumer);
    const released = await this.#redis('releaseConsumer', inbox, () =>
      releaseScript.run(
        this.#client,
        [keys.stream, keys.reclaim, keys.armed],
        [this.#group, consumer, RELEASED_CONSUMER, PARKED_IDLE_MS, keys.wakeChannel],
      ),
    );
    this.#hub.invalidate(inbox);
    return Number(released);
  }

  // ---------------------------------------------------------------- inbox management

  /**
   * `unread` counts new, nacked, released and lease-expired deliveries; `inFlight` the ones held
   * within their lease. Spent expired deliveries are moved to dead letter first, as a read would.
   */
  async stats(inbox: string): Promise<InboxStats> {
    this.#assertOpen('stats');
    validateAddress(inbox, 'inbox');
    const keys = this.#keys.inbox(inbox);
    const reply = (await this.#redis('stats', inbox, () =>
      statsScript.run(
        this.#client,
        [keys.stream, keys.errors, keys.dead],
        [this.#group, this.#leaseMs, this.#maxDeliveries, this.#clock.now(), this.#deadLetterMaxLength],
      ),
    )) as [number, number, number, RawDeadLetter[]];
    this.#announceDeadLetters(inbox, reply[3]);
    return { unread: reply[0], inFlight: reply[1], deadLetters: reply[2] };
  }

  /** The oldest dead letters first, at most `limit` (default 100). */
  async deadLetters(inbox: string, options?: { limit?: number }): Promise<DeadLetter[]> {
    this.#assertOpen('deadLetters');
    validateAddress(inbox, 'inbox');
    const limit = positiveLimit(options?.limit, DEFAULT_DEAD_LETTER_LIMIT, 'deadLetters');
    const keys = this.#keys.inbox(inbox);
    const entries = (await this.#redis('deadLetters', inbox, () =>
      this.#client.call('XRANGE', keys.dead, '-', '+', 'COUNT', limit),
    )) as Array<[string, string[]]>;
    return entries.map(([id, fields]) => toDeadLetter(inbox, id, fields));
  }

  /**
   * Moves the oldest dead letters (all, or those of `ids`, at most `limit`) back to the inbox as
   * new messages (new delivery ids, attempt 1 next).
   */
  async redrive(inbox: string, options?: RedriveOptions): Promise<number> {
    this.#assertOpen('redrive');
    validateAddress(inbox, 'inbox');
    const limit = positiveLimit(options?.limit, Number.POSITIVE_INFINITY, 'redrive');
    const keys = this.#keys.inbox(inbox);
    let moved = 0;
    if (options?.ids !== undefined) {
      const entries = await this.#deadEntries(inbox, messageIds(options.ids, 'redrive'), limit);
      if (entries.length > 0) {
        moved = Number(
          await this.#redis('redrive', inbox, () =>
            redriveEntriesScript.run(this.#client, [keys.dead, keys.stream], [keys.wakeChannel, ...entries]),
          ),
        );
      }
    } else {
      // In slices, so one script never holds Redis for long.
      while (moved < limit) {
        const count = Math.min(DEAD_LETTER_PAGE, limit - moved);
        const slice = Number(
          await this.#redis('redrive', inbox, () =>
            redriveScript.run(this.#client, [keys.dead, keys.stream], [count, keys.wakeChannel]),
          ),
        );
        moved += slice;
        if (slice < count) break;
      }
    }
    this.#hub.invalidate(inbox);
    return moved;
  }

  /** Deletes the dead letters of these message ids (one XDEL: an entry deleted meanwhile counts 0). */
  async discardDeadLetters(inbox: string, ids: readonly string[]): Promise<number> {
    this.#assertOpen('discardDeadLetters');
    validateAddress(inbox, 'inbox');
    const entries = await this.#deadEntries(inbox, messageIds(ids, 'discardDeadLetters'), Number.POSITIVE_INFINITY);
    if (entries.length === 0) return 0;
    const keys = this.#keys.inbox(inbox);
    return Number(
      await this.#redis('discardDeadLetters', inbox, () => this.#client.call('XDEL', keys.dead, ...entries)),
    );
  }

  /**
   * The dead-letter stream entry ids of these message ids, oldest first, at most `limit`. The
   * envelope sits inside each entry as JSON, so this pages through the stream (capped at
   * `deadLetterMaxLength`) on the client rather than decoding every entry inside one script,
   * which would block Redis: finding one id among 10,000 dead letters took 135-235 ms (median of
   * 5) on a loaded 2-core machine, an operator's click, while every other client kept going.
   */
  async #deadEntries(inbox: string, ids: readonly string[], limit: number): Promise<string[]> {
    const found: string[] = [];
    if (ids.length === 0) return found;
    const wanted = new Set(ids);
    const keys = this.#keys.inbox(inbox);
    let start = '-';
    while (found.length < limit) {
      const page = (await this.#redis('deadLetters', inbox, () =>
        this.#client.call('XRANGE', keys.dead, start, '+', 'COUNT', DEAD_LETTER_PAGE),
      )) as Array<[string, string[]]>;
      for (const [id, fields] of page) {
        if (found.length < limit && wanted.has(toDeadLetter(inbox, id, fields).envelope.id)) found.push(id);
      }
      if (page.length < DEAD_LETTER_PAGE) break;
      start = `(${page[page.length - 1]![0]}`;
    }
    return found;
  }

  /** Drops every message of the inbox (unread, in flight, dead) and its de-duplication memory. */
  async deleteInbox(inbox: string): Promise<void> {
    this.#assertOpen('deleteInbox');
    validateAddress(inbox, 'inbox');
    const keys = this.#keys.inbox(inbox);
    this.#dropHeld(inbox, undefined);
    await this.#redis('deleteInbox', inbox, () =>
      this.#client.call(
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
    validateAddress(group, 'group');
    await this.#redis('createGroup', group, () => this.#client.call('SADD', this.#keys.groups, group));
  }

  async deleteGroup(group: string): Promise<void> {
    this.#assertOpen('deleteGroup');
    validateAddress(group, 'group');
    const found = await this.#redis('deleteGroup', group, () =>
      deleteGroupScript.run(this.#client, [this.#keys.groups, this.#keys.group(group)], [group]),
    );
    if (Number(found) === 0) throw groupNotFound(group);
  }

  /** Adds `member` (an inbox address); joining twice changes nothing. */
  async join(group: string, member: string): Promise<void> {
    this.#assertOpen('join');
    validateAddress(group, 'group');
    validateAddress(member, 'member');
    const found = await this.#redis('join', group, () =>
      joinScript.run(
        this.#client,
        [this.#keys.groups, this.#keys.group(group), this.#keys.groupSequence],
        [group, member],
      ),
    );
    if (Number(found) === 0) throw groupNotFound(group);
  }

  /** Removes `member`; leaving a group one is not in changes nothing. The group stays. */
  async leave(group: string, member: string): Promise<void> {
    this.#assertOpen('leave');
    validateAddress(group, 'group');
    validateAddress(member, 'member');
    const found = await this.#redis('leave', group, () =>
      leaveScript.run(this.#client, [this.#keys.groups, this.#keys.group(group)], [group, member]),
    );
    if (Number(found) === 0) throw groupNotFound(group);
  }

  /** Members sorted by code unit order (not join order), so every bus lists them alike. */
  async members(group: string): Promise<string[]> {
    this.#assertOpen('members');
    return (await this.#membersInJoinOrder(group, 'members')).sort();
  }

  /** Group names, sorted. */
  async groups(): Promise<string[]> {
    this.#assertOpen('groups');
    const names = (await this.#redis('groups', 'groups', () =>
      this.#client.call('SMEMBERS', this.#keys.groups),
    )) as string[];
    return names.sort();
  }

  async #membersInJoinOrder(group: string, operation: string): Promise<string[]> {
    validateAddress(group, 'group');
    const members = (await this.#redis(operation, group, () =>
      membersScript.run(this.#client, [this.#keys.groups, this.#keys.group(group)], [group]),
    )) as string[] | null;
    if (members === null) throw groupNotFound(group);
    return members;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Resolves every blocked read with `[]`, lets reads in flight hand back what they took, closes
   * the wake-up connection, and closes the client only when `createRedisBus` opened it from a URL.
   * Returns the same promise when called again; every other method then rejects with `CLOSED`.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    this.#closing = this.#shutdown();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(): Promise<void> {
    const failures: unknown[] = [];
    this.#client.off('close', this.#onConnectionLost);
    this.#client.off('ready', this.#onConnectionBack);
    if (this.#hasHoldSweep) {
      this.#hasHoldSweep = false;
      this.#clock.clearTimeout(this.#holdSweep);
    }
    for (const box of this.#waiting.values()) {
      this.#clearInboxTimer(box);
      // Awaited with the reads in flight below, before the wake-up connection closes.
      this.#releaseHeld(box);
      if (box.armedFor !== undefined) this.#track(this.#disarm(box));
      for (const waiter of box.waiters.splice(0)) {
        try {
          waiter.active = false;
          settleBlockedRead(waiter, this.#clock, []);
        } catch (error) {
          failures.push(error);
        }
      }
    }
    this.#waiting.clear();
    // Whatever was queued this tick goes out before the connections close.
    this.#sends.flush();
    this.#reads.flush();
    if (this.#running.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...this.#running]),
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
    if (this.#ownsClient) {
      try {
        await Promise.race([
          this.#client.quit(),
          new Promise((_, reject) => setTimeout(() => reject(new Error('QUIT timed out')), CLOSE_GRACE_MS).unref()),
        ]);
      } catch {
        this.#client.disconnect();
      }
    }
    if (failures.length > 0) {
      throw new AgentrixError('INTERNAL', `RedisStreamsBus closed with ${failures.length} cleanup error(s)`, {
        cause: failures.length === 1 ? failures[0] : new AggregateError(failures),
      });
    }
  }

  // ---------------------------------------------------------------- reading internals

  /**
   * A read that does not wait for messages. Its caller is answered at once when its signal fires,
   * even while Redis does not answer (the connection is down and ioredis holds the command): what
   * the read takes once Redis answers is then given back.
   */
  #readNow(inbox: string, consumer: string, max: number, signal: AbortSignal | undefined): Promise<Delivery[]> {
    const keys = this.#keys.inbox(inbox);
    const operation = this.#readOnce(keys, inbox, consumer, max, 0).then(async (result) => {
      if (!this.#closed && signal?.aborted !== true) return result.deliveries;
      // Nobody takes these: the bus closed, or the caller was already answered with ABORTED.
      if (result.deliveries.length > 0) await this.#giveBack(keys, inbox, result.deliveries);
      return [];
    });
    return untilAborted(this.#track(operation), signal, 'read');
  }

  #wait(
    inbox: string,
    consumer: string,
    max: number,
    blockMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Delivery[]> {
    let box = this.#waiting.get(inbox);
    if (box === undefined) {
      box = {
        name: inbox,
        keys: this.#keys.inbox(inbox),
        waiters: [],
        pumping: false,
        dirty: false,
        checkLeases: false,
        armedFor: undefined,
        lastConsumer: undefined,
        prefetched: undefined,
        holdUntil: 0,
        timer: undefined,
        hasTimer: false,
        failures: 0,
      };
      this.#waiting.set(inbox, box);
    }
    const waitingInbox = box;
    box.lastConsumer = consumer;
    // The reader came back: an arm kept for it stays (nothing was held, or it was for another consumer).
    if (box.prefetched === undefined) this.#clearHoldTimer(box);
    const promise = new Promise<Delivery[]>((resolve, reject) => {
      const waiter: Waiter = {
        consumer,
        max,
        resolve,
        reject,
        signal,
        active: true,
        timer: undefined,
        hasTimer: false,
        onAbort: undefined,
        leave: undefined,
        clock: undefined,
        box: waitingInbox,
      };
      waitingInbox.waiters.push(waiter);
      armBlockedRead(waiter, this.#clock, blockMs, this.#leave);
    });
    this.#pump(waitingInbox);
    return promise;
  }

  /**
   * Feeds the blocked reads of one inbox, oldest first, until one finds nothing; then waits for a
   * wake-up (or for the earliest lease in flight to end). One loop per inbox at a time: a wake-up
   * during a loop makes it run once more.
   */
  #pump(box: WaitingInbox): void {
    if (box.pumping) {
      box.dirty = true;
      return;
    }
    // Known drained and no lease about to end: wait for the wake-up without starting a read loop.
    if (box.waiters.length > 0 && !this.#closed && this.#hub.isSubscribed(box.name)) {
      const leaseEndsAt = this.#hub.drained(box.name);
      if (leaseEndsAt !== undefined) {
        const left = leaseEndsAt < 0 ? -1 : leaseEndsAt - this.#clock.now();
        if (leaseEndsAt < 0 || left > 0) {
          this.#armInboxTimer(box, left);
          return;
        }
      }
    }
    box.pumping = true;
    this.#track(this.#runPump(box));
  }

  async #runPump(box: WaitingInbox): Promise<void> {
    try {
      do {
        box.dirty = false;
        if (box.waiters.length === 0 || this.#closed) break;
        if (!this.#hub.isSubscribed(box.name)) await this.#hub.subscribe(box.name);
        while (box.waiters.length > 0 && !this.#closed) {
          // Drained by an earlier read and no wake-up since: nothing to read but expired leases.
          const leaseEndsAt = this.#hub.drained(box.name);
          if (leaseEndsAt !== undefined) {
            const left = leaseEndsAt < 0 ? -1 : leaseEndsAt - this.#clock.now();
            if (leaseEndsAt < 0 || left > 0) {
              this.#armInboxTimer(box, left);
              break;
            }
            this.#hub.invalidate(box.name);
            box.checkLeases = true;
          }
          const waiter = box.waiters[0]!;
          const issuedAt = this.#hub.sequence;
          const flags = blockedReadFlags(waiter.consumer) | (box.checkLeases ? READ_CHECK_LEASES : 0);
          box.checkLeases = false;
          const result = await this.#readOnce(box.keys, box.name, waiter.consumer, waiter.max, flags);
          if (!result.more && result.deliveries.length === 0 && (flags & READ_HANDOFF) !== 0) {
            // Set even if the hand-off already came: disarming checks the arm is still ours.
            box.armedFor = waiter.consumer;
          }
          if (!waiter.active || this.#closed) {
            // The reader went away (abort, timeout, close) while its read was in flight.
            if (result.deliveries.length > 0) await this.#giveBack(box.keys, box.name, result.deliveries);
            continue;
          }
          if (!result.more) {
            this.#hub.markDrained(box.name, issuedAt, result.hintMs < 0 ? -1 : this.#clock.now() + result.hintMs);
          }
          if (result.deliveries.length > 0) {
            this.#removeWaiter(box, waiter);
            settleBlockedRead(waiter, this.#clock, result.deliveries);
            continue;
          }
          this.#armInboxTimer(box, result.hintMs);
          break;
        }
      } while (box.dirty && !this.#closed);
      box.failures = 0;
    } catch (error) {
      box.failures++;
      if (!this.#closed) {
        this.#logger.warn(
          {
            inbox: box.name,
            attempt: box.failures,
            error: error instanceof Error ? error.message : String(error),
          },
          'RedisStreamsBus blocked read failed; retrying',
        );
        this.#armInboxTimer(box, Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(box.failures - 1, 10)));
      }
    } finally {
      box.pumping = false;
      if (box.waiters.length === 0) this.#idleInbox(box);
    }
  }

  /**
   * One read script; entries that are not envelopes of this bus go to dead letter and the read
   * is repeated (a few times) so that malformed entries never hide the messages behind them.
   */
  #readOnce(
    keys: InboxKeys,
    inbox: string,
    consumer: string,
    max: number,
    flags: number,
    round = 1,
  ): Promise<ReadResult> {
    return this.#readScript(keys, inbox, consumer, max, flags).then((result) => {
      if (result.deliveries.length > 0 || !result.sawMalformed) return result;
      if (round >= 10) return { deliveries: [], hintMs: 0, more: true };
      return this.#readOnce(keys, inbox, consumer, max, flags, round + 1);
    });
  }

  #readScript(
    keys: InboxKeys,
    inbox: string,
    consumer: string,
    max: number,
    flags: number,
  ): Promise<ReadResult & { sawMalformed: boolean }> {
    const item: ReadItem = { inbox, consumer, max, flags: this.#leaseCheckFlag(inbox, flags), ack: NO_IDS };
    return this.#reads.add(item).then((reply) => this.#readReply(keys, inbox, reply));
  }

  /** `flags` plus READ_CHECK_LEASES when this process has not looked for expired leases of the inbox lately. */
  #leaseCheckFlag(inbox: string, flags: number): number {
    const now = this.#clock.now();
    const checkedAt = this.#leaseCheckedAt.get(inbox);
    if ((flags & READ_CHECK_LEASES) !== 0 || checkedAt === undefined || now - checkedAt >= this.#leaseCheckMs) {
      if (checkedAt === undefined && this.#leaseCheckedAt.size >= LEASE_CHECK_MEMORY) this.#leaseCheckedAt.clear();
      this.#leaseCheckedAt.set(inbox, now);
      return flags | READ_CHECK_LEASES;
    }
    return flags;
  }

  /** Deliveries of one read reply; entries that are not envelopes go to dead letter (then a promise). */
  #readReply(
    keys: InboxKeys,
    inbox: string,
    reply: RawRead,
  ): (ReadResult & { sawMalformed: boolean }) | Promise<ReadResult & { sawMalformed: boolean }> {
    const hintMs = reply[1] as number;
    const more = reply[2] as number;
    const deadCount = reply[3] as number;
    let sawMalformed = false;
    let index = 4;
    if (deadCount > 0) {
      const dead: RawDeadLetter[] = [];
      for (let letter = 0; letter < deadCount; letter++, index += 4) {
        const kind = reply[index] as string;
        // Entries without an envelope field were dead-lettered by the script itself.
        if (kind === 'raw') sawMalformed = true;
        dead.push([kind, reply[index + 1] as string, reply[index + 2] as number, reply[index + 3] as string]);
      }
      this.#announceDeadLetters(inbox, dead);
    }
    const deliveries: Delivery[] = [];
    let malformed: RawDelivery[] | undefined;
    for (; index < reply.length; index += 4) {
      const deliveryId = reply[index] as string;
      const attempt = reply[index + 1] as number;
      const json = reply[index + 2] as string;
      const envelope = parseEnvelope(json);
      if (envelope === undefined) {
        if (malformed === undefined) malformed = [];
        malformed.push([deliveryId, attempt, json, reply[index + 3] as string]);
        continue;
      }
      const lastError = parseError(reply[index + 3] as string);
      if (attempt > 1) {
        this.#logger.info(
          { inbox, messageId: envelope.id, deliveryId, attempt },
          'RedisStreamsBus is delivering a message again',
        );
      }
      deliveries.push(
        lastError === undefined ? { deliveryId, envelope, attempt } : { deliveryId, envelope, attempt, lastError },
      );
    }
    if (malformed !== undefined) sawMalformed = true;
    const result = { deliveries, hintMs, more: more !== 0 || sawMalformed, sawMalformed };
    if (malformed === undefined) return result;
    return this.#deadLetterMalformed(keys, inbox, malformed).then(() => result);
  }

  async #deadLetterMalformed(
    keys: InboxKeys,
    inbox: string,
    malformed: readonly RawDelivery[],
    error = NOT_AN_ENVELOPE_ERROR,
  ): Promise<void> {
    for (const entry of malformed) {
      const letters = (await this.#redis('read', inbox, () =>
        deadLetterScript.run(
          this.#client,
          [keys.stream, keys.errors, keys.dead],
          [this.#group, entry[0], entry[1], this.#clock.now(), this.#deadLetterMaxLength, error],
        ),
      )) as RawDeadLetter[];
      this.#announceDeadLetters(inbox, letters);
    }
  }

  /** Hands deliveries back to the inbox (first in line), restoring their delivery counts. */
  async #giveBack(keys: InboxKeys, inbox: string, deliveries: readonly Delivery[]): Promise<void> {
    const pairs: Array<string | number> = [];
    for (const delivery of deliveries) pairs.push(delivery.deliveryId, delivery.attempt - 1);
    this.#hub.invalidate(inbox);
    try {
      await this.#redis('read', inbox, () =>
        giveBackScript.run(
          this.#client,
          [keys.stream, keys.reclaim, keys.armed],
          [this.#group, RELEASED_CONSUMER, PARKED_IDLE_MS, keys.wakeChannel, ...pairs],
        ),
      );
    } catch (error) {
      // Not lost: the lease ends and the next read claims them (with one more attempt counted).
      this.#logger.warn(
        {
          inbox,
          error: error instanceof Error ? error.message : String(error),
        },
        'RedisStreamsBus could not hand back deliveries of a cancelled read',
      );
    }
  }

  #armInboxTimer(box: WaitingInbox, delayMs: number): void {
    this.#clearInboxTimer(box);
    if (delayMs < 0 || this.#closed) return;
    box.timer = this.#clock.setTimeout(
      () => {
        box.hasTimer = false;
        box.timer = undefined;
        // A lease may have ended (or a failed read is retried): read for real.
        this.#hub.invalidate(box.name);
        box.checkLeases = true;
        this.#pump(box);
      },
      delayMs,
      BACKGROUND_TIMER,
    );
    box.hasTimer = true;
  }

  #clearInboxTimer(box: WaitingInbox): void {
    if (!box.hasTimer) return;
    box.hasTimer = false;
    this.#clock.clearTimeout(box.timer);
    box.timer = undefined;
  }

  /** How a blocked read leaves its inbox (one function for all reads). */
  readonly #leave = (waiter: Waiter): boolean => this.#removeWaiter(waiter.box, waiter);

  #removeWaiter(box: WaitingInbox, waiter: Waiter): boolean {
    const index = box.waiters.indexOf(waiter);
    if (index < 0) return false;
    waiter.active = false;
    box.waiters.splice(index, 1);
    if (box.waiters.length === 0 && !box.pumping) this.#idleInbox(box);
    return true;
  }

  /**
   * Nobody waits on the inbox any more. Its record stays (the next read of the same agent reuses
   * it) until the wake-up hub lets go of the idle inbox.
   */
  #idleInbox(box: WaitingInbox): void {
    this.#clearInboxTimer(box);
    if (box.armedFor !== undefined && !this.#closed) this.#track(this.#disarm(box));
  }

  /**
   * The last reader of an inbox armed for a hand-off went away (abort, timeout): the next send
   * must wake whoever else waits instead of handing its message to a reader that is gone.
   */
  async #disarm(box: WaitingInbox): Promise<void> {
    const consumer = box.armedFor;
    box.armedFor = undefined;
    if (consumer === undefined) return;
    try {
      await withDeadline(
        disarmScript.run(this.#client, [box.keys.armed], [`${this.#token}\n${consumer}`]),
        this.#commandTimeoutMs,
      );
    } catch (error) {
      // Not lost: a message handed to nobody is redelivered once its lease ends.
      this.#logger.warn(
        {
          inbox: box.name,
          error: error instanceof Error ? error.message : String(error),
        },
        'RedisStreamsBus could not disarm an inbox',
      );
    }
  }

  /**
   * A wake-up carrying a message (see the send script). Returns false when it is not for this bus
   * (then it is a plain wake-up). A message handed to a reader that is gone is given back.
   */
  #takeHandoff(inbox: string, box: WaitingInbox | undefined, message: string): boolean {
    // h<token>\n<consumer>\n<entry id>\n<envelope>
    const tokenEnd = message.indexOf('\n');
    if (tokenEnd !== this.#token.length + 1 || !message.startsWith(this.#token, 1)) return false;
    const consumerEnd = message.indexOf('\n', tokenEnd + 1);
    const idEnd = consumerEnd < 0 ? -1 : message.indexOf('\n', consumerEnd + 1);
    if (idEnd < 0) return false;
    const consumer = message.slice(tokenEnd + 1, consumerEnd);
    const deliveryId = message.slice(consumerEnd + 1, idEnd);
    const json = message.slice(idEnd + 1);
    const keys = box?.keys ?? this.#keys.inbox(inbox);
    const envelope = parseEnvelope(json);
    if (envelope === undefined) {
      // Written by something else: dead letter, as a read would, then read on.
      const error = json === '' ? NO_ENVELOPE_ERROR : NOT_AN_ENVELOPE_ERROR;
      this.#track(
        this.#deadLetterMalformed(keys, inbox, [[deliveryId, 1, json, '']], error).then(
          () => box !== undefined && this.#pump(box),
          (failure: unknown) => {
            this.#logger.warn(
              {
                inbox,
                error: failure instanceof Error ? failure.message : String(failure),
              },
              'RedisStreamsBus could not dead-letter a malformed entry',
            );
            if (box !== undefined) this.#pump(box);
          },
        ),
      );
      return true;
    }
    const delivery: Delivery = { deliveryId, envelope, attempt: 1 };
    const waiter = this.#closed ? undefined : box?.waiters.find((candidate) => candidate.consumer === consumer);
    if (box === undefined || waiter === undefined) {
      // Between two reads of the reader loop it was armed for: held for its next read.
      if (box !== undefined && !this.#closed && box.lastConsumer === consumer) this.#hold(box, [delivery]);
      else this.#track(this.#giveBack(keys, inbox, [delivery]));
      return true;
    }
    this.#removeWaiter(box, waiter);
    settleBlockedRead(waiter, this.#clock, [delivery]);
    if (box.waiters.length > 0) this.#pump(box);
    return true;
  }

  // ---------------------------------------------------------------- batches (one script per tick)

  #runSends(items: SendItem[]): Promise<Array<1 | [0, string] | Error>> {
    if (!this.#cluster) return this.#sendScript(items, NO_KEYS);
    return this.#perSlot(items, sendKeys, (group, keys) => this.#sendScript(group, keys));
  }

  async #sendScript(items: SendItem[], keys: readonly string[]): Promise<Array<1 | [0, string] | Error>> {
    const args: Array<string | number> = [
      this.#keys.inboxPrefix,
      this.#keys.wakePrefix,
      this.#dedupeWindow,
      this.#group,
    ];
    for (const item of items) args.push(item.inbox, item.envelope, item.explicitId, item.externalId);
    const replies = (await withDeadline(
      sendBatchScript.run(this.#client, keys, args),
      this.#commandTimeoutMs,
    )) as Array<1 | [0, string]>;
    return replies.map((reply) => (reply === 1 ? reply : (itemError(reply) ?? reply)));
  }

  #runReads(items: ReadItem[]): Promise<Array<RawRead | Error>> {
    if (!this.#cluster) return this.#readBatchScript(items, NO_KEYS);
    return this.#perSlot(items, readKeys, (group, keys) => this.#readBatchScript(group, keys));
  }

  async #readBatchScript(items: ReadItem[], keys: readonly string[]): Promise<Array<RawRead | Error>> {
    const args: Array<string | number> = [
      this.#keys.inboxPrefix,
      this.#group,
      this.#leaseMs,
      this.#maxDeliveries,
      this.#clock.now(),
      this.#deadLetterMaxLength,
      this.#token,
    ];
    for (const item of items) {
      args.push(item.inbox, item.consumer, item.max, item.flags, item.ack.length);
      for (const id of item.ack) args.push(id);
    }
    const replies = (await withDeadline(
      readBatchScript.run(this.#client, keys, args),
      this.#commandTimeoutMs,
    )) as unknown[][];
    return replies.map((reply) => itemError(reply) ?? (reply as RawRead));
  }

  /**
   * On a cluster, a batch script may only touch keys of one slot, all declared (so ioredis routes
   * it, follows `MOVED` / `ASK` and retries `TRYAGAIN` during a resharding): one script call per
   * slot of the batch, declaring every key the script touches. A failed call fails only its items.
   */
  async #perSlot<Item extends { readonly inbox: string }, Result>(
    items: Item[],
    keysOf: (keys: InboxKeys) => readonly string[],
    run: (group: Item[], keys: string[]) => Promise<Array<Result | Error>>,
  ): Promise<Array<Result | Error>> {
    const slots = new Map<number, { indexes: number[]; group: Item[]; keys: string[]; inboxes: Set<string> }>();
    for (let index = 0; index < items.length; index++) {
      const item = items[index]!;
      const inboxKeys = this.#keys.inbox(item.inbox);
      let slot = slots.get(inboxKeys.slot);
      if (slot === undefined) {
        slot = { indexes: [], group: [], keys: [], inboxes: new Set() };
        slots.set(inboxKeys.slot, slot);
      }
      slot.indexes.push(index);
      slot.group.push(item);
      if (!slot.inboxes.has(item.inbox)) {
        slot.inboxes.add(item.inbox);
        slot.keys.push(...keysOf(inboxKeys));
      }
    }
    const results = new Array<Result | Error>(items.length);
    await Promise.all(
      [...slots.values()].map(({ indexes, group, keys }) =>
        run(group, keys).then(
          (replies) => {
            for (let index = 0; index < indexes.length; index++) results[indexes[index]!] = replies[index]!;
          },
          (error: unknown) => {
            const failure = error instanceof Error ? error : new Error(String(error));
            for (const index of indexes) results[index] = failure;
          },
        ),
      ),
    );
    return results;
  }

  // ---------------------------------------------------------------- helpers

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#running.add(promise);
    const forget = () => this.#running.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  #announceDeadLetters(inbox: string, letters: readonly RawDeadLetter[]): void {
    if (letters.length === 0) return;
    const announce = this.#events?.has('message.dead-lettered') === true;
    for (const [kind, payload, attempts, errorJson] of letters) {
      const envelope =
        (kind === 'envelope' ? parseEnvelope(payload) : undefined) ??
        malformedEnvelope(inbox, 'unknown', payload, this.#clock.now());
      const error: SerializedError | undefined = parseError(errorJson);
      this.#logger.warn(
        { inbox, messageId: envelope.id, attempts: Number(attempts), ...(error?.code ? { code: error.code } : {}) },
        'RedisStreamsBus moved a message to dead letter',
      );
      if (!announce) continue;
      this.#events?.emit('message.dead-lettered', {
        inbox,
        envelope,
        attempts: Number(attempts),
        ...(error === undefined ? {} : { error }),
      });
    }
  }

  /** The command connection closed: logged once per outage (ioredis reconnects and emits 'close' per attempt). */
  readonly #onConnectionLost = (): void => {
    if (this.#closed || this.#downSince !== undefined) return;
    this.#downSince = this.#clock.now();
    this.#logger.warn(
      { commandTimeoutMs: this.#commandTimeoutMs },
      'RedisStreamsBus lost its Redis connection: calls wait up to commandTimeoutMs for it, then fail with BUS_UNAVAILABLE; blocked reads resume once it is back',
    );
  };

  readonly #onConnectionBack = (): void => {
    if (this.#closed || this.#downSince === undefined) return;
    const downMs = this.#clock.now() - this.#downSince;
    this.#downSince = undefined;
    this.#logger.info({ downMs }, 'RedisStreamsBus has its Redis connection back');
  };

  async #redis<T>(operation: string, where: string, run: () => Promise<T>): Promise<T> {
    try {
      return await withDeadline(run(), this.#commandTimeoutMs);
    } catch (error) {
      const slot = this.#cluster
        ? GROUP_OPERATIONS.has(operation)
          ? keySlot(this.#keys.groups)
          : this.#keys.inbox(where).slot
        : -1;
      throw redisError(error, operation, this.#located(where, slot));
    }
  }

  /** `where`, and on a cluster the slot and the node that serves it (in the client's slot map). */
  #located(where: string, slot: number): string {
    if (!this.#cluster) return where;
    const node = this.#client.slots?.[slot]?.[0];
    return `${where}, slot ${slot} on ${node ?? 'no known node'}`;
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw busClosed('RedisStreamsBus', operation);
  }
}
