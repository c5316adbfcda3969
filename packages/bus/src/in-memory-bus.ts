import {
  type AgentrixEvents,
  type BroadcastInput,
  type Clock,
  type DeadLetter,
  type Delivery,
  type IdGenerator,
  type InboxStats,
  isReplyInbox,
  type Logger,
  type MessageBus,
  type MessageEnvelope,
  type NackOptions,
  type ReadOptions,
  type RedriveOptions,
  type SendInput,
  serializeError,
} from '@agentrix/core';
import {
  busClosed,
  checkMessageSize,
  checkSendInput,
  completeEnvelope,
  DEFAULT_DEAD_LETTER_LIMIT,
  groupNotFound,
  messageIds,
  parseBroadcastInput,
  positiveLimit,
  resolveReadOptions,
  validateAddress,
} from '@agentrix/core/implement';
import { DedupeWindow } from './dedupe-window.js';
import { addWaiter, closeFailure, releaseWaiters, removeWaiter, settleWaiter } from './implement/blocked-reads.js';
import { emitDeadLettered } from './implement/dead-letter-events.js';
import { InboxTimer } from './implement/inbox-timer.js';
import { type InMemoryBusOptions, resolveInMemoryBusOptions } from './in-memory-bus-options.js';
import { createInbox, type Inbox, type InboxEntry, type Waiter } from './inbox.js';

/**
 * The default {@link MessageBus}: inboxes, groups and blocking reads inside one process.
 *
 * - At-least-once: a message stays pending from `send` until `ack`. A delivery not acked within
 *   `leaseMs` (checked when someone reads, or by one timer per inbox while a reader waits), or
 *   held by a consumer given to `releaseConsumer`, is delivered again; after `maxDeliveries`
 *   deliveries it moves to dead letter with its last nack error.
 * - First deliveries keep send order per inbox; redeliveries go ahead of them.
 * - `read` blocks without polling: `send` hands messages straight to the oldest blocked reader
 *   of that inbox, so each message reaches exactly one of several blocked readers.
 * - Nothing survives the process: use a Redis Streams bus for durability across restarts.
 *
 * Envelopes are shared between the sender's return value and every delivery: treat them as
 * read-only.
 */
export class InMemoryBus implements MessageBus {
  readonly #clock: Clock;
  readonly #generateId: IdGenerator;
  readonly #events: AgentrixEvents | undefined;
  readonly #consumer: string;
  readonly #leaseMs: number;
  readonly #maxDeliveries: number;
  readonly #maxMessageBytes: number;
  readonly #dedupeWindow: number;
  readonly #logger: Logger;

  readonly #inboxes = new Map<string, Inbox>();
  readonly #groups = new Map<string, Set<string>>();
  #sequence = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  /** How long a delivery stays leased to its reader without an ack. */
  get leaseMs(): number {
    return this.#leaseMs;
  }

  /** Deliveries of a message before it moves to dead letter. */
  get maxDeliveries(): number {
    return this.#maxDeliveries;
  }

  constructor(options: InMemoryBusOptions = {}) {
    const resolved = resolveInMemoryBusOptions(options);
    this.#clock = resolved.clock;
    this.#generateId = resolved.generateId;
    this.#events = resolved.events;
    this.#consumer = resolved.consumer;
    this.#leaseMs = resolved.leaseMs;
    this.#maxDeliveries = resolved.maxDeliveries;
    this.#maxMessageBytes = resolved.maxMessageBytes;
    this.#dedupeWindow = resolved.dedupeWindow;
    this.#logger = resolved.logger;
  }

  // ---------------------------------------------------------------- sending

  /**
   * Appends a message to `input.to`. A repeated explicit `id` or `externalId` (within
   * `dedupeWindow` per inbox) is not enqueued again: the original envelope is returned. Explicit
   * ids of messages to or answered at a reply inbox are not remembered (see `REPLY_INBOX_PREFIX`).
   * Not `async` (nor is `ack`): a frame per call on the path of every ask (bench/runtime section 4).
   */
  send(input: SendInput): Promise<MessageEnvelope> {
    const sent = this.#send(input);
    return sent instanceof Promise ? sent : Promise.resolve(sent);
  }

  /** `send`, done before it returns: the envelope (or the original one), or the rejection (closed, invalid input). */
  sendNow(input: SendInput): MessageEnvelope | Promise<MessageEnvelope> {
    return this.#send(input);
  }

  #send(input: SendInput): MessageEnvelope | Promise<MessageEnvelope> {
    try {
      this.#assertOpen('send');
      const message = checkSendInput(input, this.#maxMessageBytes);
      const inbox = this.#inbox(message.to, true);
      // Asks and their replies are matched by their asker, which drops duplicates: their ids are not
      // remembered (see REPLY_INBOX_PREFIX).
      const explicitId =
        isReplyInbox(message.to) || (message.replyTo && isReplyInbox(message.replyTo)) ? undefined : message.id;
      const externalId = message.externalId;
      const duplicate = findDuplicate(inbox, explicitId, externalId);
      if (duplicate !== undefined) return duplicate;
      const envelope = completeEnvelope(message, this.#generateId, this.#clock.now());
      this.#deliverNew(inbox, envelope, explicitId, externalId, envelope.createdAt);
      return envelope;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A copy to every member's inbox, each with its own generated id, `to` set to the member and
   * `group` set to the group. An explicit `id` or `externalId` de-duplicates per member inbox.
   * Members get copies in the order they joined; an empty group yields `[]`.
   */
  async broadcast(input: BroadcastInput): Promise<MessageEnvelope[]> {
    this.#assertOpen('broadcast');
    const message = parseBroadcastInput(input);
    const members = this.#groups.get(message.group);
    if (members === undefined) throw groupNotFound(message.group);
    checkMessageSize(message.content, message.data, this.#maxMessageBytes, message.group);
    const explicitId = message.id;
    const externalId = message.externalId;
    const type = message.type ?? 'message';
    const createdAt = this.#clock.now();
    const envelopes: MessageEnvelope[] = [];
    for (const member of members) {
      const inbox = this.#inbox(member, true);
      if (explicitId !== undefined || externalId !== undefined) {
        const duplicate = findDuplicate(inbox, explicitId, externalId);
        if (duplicate !== undefined) {
          envelopes.push(duplicate);
          continue;
        }
      }
      const envelope: MessageEnvelope = { ...message, id: this.#generateId(), to: member, type, createdAt };
      this.#deliverNew(inbox, envelope, explicitId, externalId, createdAt);
      envelopes.push(envelope);
    }
    return envelopes;
  }

  // ---------------------------------------------------------------- reading

  /**
   * Up to `max` deliveries for `consumer`: expired and released deliveries first, then unread
   * messages in send order. When there are none, `blockMs: 0` returns `[]`, a number waits up
   * to that long and then returns `[]`, and `undefined` waits until a message arrives.
   *
   * An `AbortSignal` that fires (or has fired) rejects with `AgentrixError` code `ABORTED`
   * (the signal's reason as cause) and takes nothing from the inbox. `close()` resolves every
   * blocked read with `[]`.
   */
  read(inbox: string, options?: ReadOptions): Promise<Delivery[]> {
    try {
      this.#assertOpen('read');
      const { consumer, max, blockMs, signal } = resolveReadOptions(options, this.#consumer);
      const box = this.#inbox(inbox, false);
      // Nothing to take and every lease in flight watched by the inbox's timer: the read waits,
      // and a lease that ended is the timer's to hand back. An agent reads its next message while
      // its turn's delivery is in flight: a clock read and a scan less per ask (bench/runtime section 4).
      if (blockMs !== 0 && box.available.size === 0 && this.#leasesWatched(box))
        return this.#wait(box, consumer, max, blockMs, signal);
      const now = this.#clock.now();
      if (box.inFlight.size > 0) this.#reclaimExpired(box, now);
      if (box.available.size > 0) {
        const deliveries = this.#take(box, consumer, max, now);
        if (deliveries.length > 0) return Promise.resolve(deliveries);
      }
      if (blockMs === 0) return Promise.resolve([]);
      return this.#wait(box, consumer, max, blockMs, signal);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Removes deliveries for good. Unknown ids (already acked, dropped inbox) are ignored. */
  ack(inbox: string, deliveryIds: readonly string[]): Promise<void> {
    return this.ackNow(inbox, deliveryIds) ?? Promise.resolve();
  }

  /** `ack`, done before it returns: `undefined`, or the rejection (closed, an invalid inbox name). */
  ackNow(inbox: string, deliveryIds: readonly string[]): Promise<void> | undefined {
    try {
      this.#assertOpen('ack');
      const box = this.#existing(inbox);
      if (box !== undefined) for (const deliveryId of deliveryIds) box.inFlight.delete(deliveryId);
      return undefined;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Restarts the lease of deliveries `consumer` still holds; returns how many it held. */
  async extendLease(inbox: string, deliveryIds: readonly string[], options?: { consumer?: string }): Promise<number> {
    this.#assertOpen('extendLease');
    const box = this.#existing(inbox);
    if (box === undefined) return 0;
    const consumer = options?.consumer ?? this.#consumer;
    const leasedUntil = this.#clock.now() + this.#leaseMs;
    let held = 0;
    for (const deliveryId of deliveryIds) {
      const entry = box.inFlight.get(deliveryId);
      if (entry === undefined || entry.consumer !== consumer) continue;
      // Re-insert to keep the map in lease order.
      box.inFlight.delete(deliveryId);
      entry.leasedUntil = leasedUntil;
      box.inFlight.set(deliveryId, entry);
      held++;
    }
    return held;
  }

  /**
   * Puts an in-flight delivery back at the front of the inbox for immediate redelivery, keeping
   * its attempt count and recording `serializeError(error)` as its last error. When it has had
   * `maxDeliveries` deliveries it moves to dead letter at once. Unknown ids are ignored.
   */
  async nack(inbox: string, deliveryId: string, options?: NackOptions): Promise<void> {
    this.#assertOpen('nack');
    const box = this.#existing(inbox);
    const entry = box?.inFlight.get(deliveryId);
    if (box === undefined || entry === undefined) return;
    box.inFlight.delete(deliveryId);
    if (options?.error !== undefined) entry.lastError = serializeError(options.error);
    const now = this.#clock.now();
    if (entry.attempt >= this.#maxDeliveries) this.#deadLetter(box, entry, now);
    else box.available.pushFront(entry);
    this.#dispatch(box, now);
  }

  async releaseConsumer(inbox: string, consumer: string): Promise<number> {
    this.#assertOpen('releaseConsumer');
    const box = this.#existing(inbox);
    if (box === undefined || box.inFlight.size === 0) return 0;
    const released: InboxEntry[] = [];
    for (const entry of box.inFlight.values()) if (entry.consumer === consumer) released.push(entry);
    if (released.length === 0) return 0;
    for (const entry of released) box.inFlight.delete(entry.deliveryId);
    const now = this.#clock.now();
    this.#makeAvailableFirst(box, released, now);
    this.#dispatch(box, now);
    return released.length;
  }

  // ---------------------------------------------------------------- inbox management

  async stats(inbox: string): Promise<InboxStats> {
    this.#assertOpen('stats');
    const box = this.#existing(inbox);
    if (box === undefined) return { unread: 0, inFlight: 0, deadLetters: 0 };
    const now = this.#clock.now();
    if (box.inFlight.size > 0) this.#reclaimExpired(box, now);
    this.#dispatch(box, now);
    return { unread: box.available.size, inFlight: box.inFlight.size, deadLetters: box.deadLetters.length };
  }

  /** The oldest dead letters first, at most `limit` (default 100). */
  async deadLetters(inbox: string, options?: { limit?: number }): Promise<DeadLetter[]> {
    this.#assertOpen('deadLetters');
    const limit = positiveLimit(options?.limit, DEFAULT_DEAD_LETTER_LIMIT, 'deadLetters');
    const box = this.#existing(inbox);
    if (box === undefined) return [];
    return box.deadLetters.slice(0, limit).map((letter) => ({ ...letter }));
  }

  /**
   * Moves the oldest dead letters (all of them, or those of `ids`, at most `limit`) to the back of
   * the inbox as new deliveries: new delivery ids, attempt count back to 0, last error cleared.
   */
  async redrive(inbox: string, options?: RedriveOptions): Promise<number> {
    this.#assertOpen('redrive');
    const limit = positiveLimit(options?.limit, Number.POSITIVE_INFINITY, 'redrive');
    const ids = options?.ids === undefined ? undefined : new Set(messageIds(options.ids, 'redrive'));
    const box = this.#existing(inbox);
    if (box === undefined || box.deadLetters.length === 0) return 0;
    const letters = this.#takeDeadLetters(box, ids, limit);
    for (const letter of letters) box.available.pushBack(this.#newEntry(letter.envelope));
    this.#dispatch(box, this.#clock.now());
    return letters.length;
  }

  /** Deletes the dead letters of these message ids. */
  async discardDeadLetters(inbox: string, ids: readonly string[]): Promise<number> {
    this.#assertOpen('discardDeadLetters');
    const wanted = new Set(messageIds(ids, 'discardDeadLetters'));
    const box = this.#existing(inbox);
    if (box === undefined || wanted.size === 0) return 0;
    return this.#takeDeadLetters(box, wanted, Number.POSITIVE_INFINITY).length;
  }

  /** Removes and returns the oldest dead letters (of `ids` when given), at most `limit`. */
  #takeDeadLetters(box: Inbox, ids: ReadonlySet<string> | undefined, limit: number): DeadLetter[] {
    if (ids === undefined) return box.deadLetters.splice(0, Math.min(limit, box.deadLetters.length));
    const taken: DeadLetter[] = [];
    box.deadLetters = box.deadLetters.filter((letter) => {
      if (taken.length >= limit || !ids.has(letter.envelope.id)) return true;
      taken.push(letter);
      return false;
    });
    return taken;
  }

  /**
   * Drops every message of the inbox (unread, in flight, dead) and its de-duplication memory.
   * Readers blocked on it keep waiting for new messages.
   */
  async deleteInbox(inbox: string): Promise<void> {
    this.#assertOpen('deleteInbox');
    const box = this.#existing(inbox);
    if (box === undefined) return;
    box.available.clear();
    box.inFlight.clear();
    box.deadLetters = [];
    box.seenIds = undefined;
    box.seenExternalIds = undefined;
    box.leaseTimer?.clear();
    if (box.waiters.length === 0) this.#inboxes.delete(inbox);
  }

  // ---------------------------------------------------------------- groups

  /** Creates an empty group; creating an existing group changes nothing. */
  async createGroup(group: string): Promise<void> {
    this.#assertOpen('createGroup');
    validateAddress(group, 'group');
    if (!this.#groups.has(group)) this.#groups.set(group, new Set());
  }

  async deleteGroup(group: string): Promise<void> {
    this.#assertOpen('deleteGroup');
    validateAddress(group, 'group');
    if (!this.#groups.delete(group)) throw groupNotFound(group);
  }

  /** Adds `member` (an inbox address); joining twice changes nothing. */
  async join(group: string, member: string): Promise<void> {
    this.#assertOpen('join');
    this.#group(group).add(validateAddress(member, 'member'));
  }

  /** Removes `member`; leaving a group one is not in changes nothing. The group stays. */
  async leave(group: string, member: string): Promise<void> {
    this.#assertOpen('leave');
    this.#group(group).delete(validateAddress(member, 'member'));
  }

  /** Members sorted by code unit order (not join order), so every bus lists them alike. */
  async members(group: string): Promise<string[]> {
    this.#assertOpen('members');
    return [...this.#group(group)].sort();
  }

  /** Group names, sorted. */
  async groups(): Promise<string[]> {
    this.#assertOpen('groups');
    return [...this.#groups.keys()].sort();
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Resolves every blocked read with `[]`, clears every timer and drops all state. Returns the
   * same promise when called again; every other method then rejects with `CLOSED`.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    const failures: unknown[] = [];
    for (const box of this.#inboxes.values()) {
      try {
        box.leaseTimer?.clear();
      } catch (error) {
        failures.push(error);
      }
      releaseWaiters(box.waiters, this.#clock, failures);
    }
    this.#inboxes.clear();
    this.#groups.clear();
    const failure = closeFailure('InMemoryBus', failures);
    this.#closing = failure === undefined ? Promise.resolve() : Promise.reject(failure);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---------------------------------------------------------------- internals

  #assertOpen(operation: string): void {
    if (this.#closed) throw busClosed('InMemoryBus', operation);
  }

  /** The inbox, created on first use; `validated` skips checking a name a schema already checked. */
  #inbox(name: string, validated: boolean): Inbox {
    let box = this.#inboxes.get(name);
    if (box === undefined) {
      if (!validated) validateAddress(name, 'inbox');
      box = createInbox(name);
      this.#inboxes.set(name, box);
    }
    return box;
  }

  /** The inbox if it exists (without creating it); throws for an invalid name. */
  #existing(name: string): Inbox | undefined {
    const box = this.#inboxes.get(name);
    if (box === undefined) validateAddress(name, 'inbox');
    return box;
  }

  #group(group: string): Set<string> {
    const members = this.#groups.get(group);
    if (members !== undefined) return members;
    validateAddress(group, 'group');
    throw groupNotFound(group);
  }

  #newEntry(envelope: MessageEnvelope): InboxEntry {
    return {
      deliveryId: String(++this.#sequence),
      envelope,
      attempt: 0,
      lastError: undefined,
      consumer: '',
      leasedUntil: 0,
    };
  }

  /** Enqueues a new envelope (made at `now`), remembers it for de-duplication, announces it, wakes a reader. */
  #deliverNew(
    box: Inbox,
    envelope: MessageEnvelope,
    explicitId: string | undefined,
    externalId: string | undefined,
    now: number,
  ): void {
    if (this.#dedupeWindow > 0) {
      if (explicitId !== undefined) {
        box.seenIds ??= new DedupeWindow(this.#dedupeWindow);
        box.seenIds.remember(explicitId, envelope);
      }
      if (externalId !== undefined) {
        box.seenExternalIds ??= new DedupeWindow(this.#dedupeWindow);
        box.seenExternalIds.remember(externalId, envelope);
      }
    }
    box.available.pushBack(this.#newEntry(envelope));
    if (this.#events?.has('message.sent')) this.#events.emit('message.sent', { envelope });
    if (box.waiters.length > 0) this.#dispatch(box, now);
  }

  /** Leases up to `max` available entries to `consumer`. */
  #take(box: Inbox, consumer: string, max: number, now: number): Delivery[] {
    const deliveries: Delivery[] = [];
    const leasedUntil = now + this.#leaseMs;
    while (deliveries.length < max) {
      const entry = box.available.shift();
      if (entry === undefined) break;
      if (entry.attempt >= this.#maxDeliveries) {
        this.#deadLetter(box, entry, now);
        continue;
      }
      entry.attempt++;
      if (entry.attempt > 1) {
        this.#logger.info(
          { inbox: box.name, messageId: entry.envelope.id, deliveryId: entry.deliveryId, attempt: entry.attempt },
          'InMemoryBus is delivering a message again',
        );
      }
      entry.consumer = consumer;
      entry.leasedUntil = leasedUntil;
      box.inFlight.set(entry.deliveryId, entry);
      const { deliveryId, envelope, attempt, lastError } = entry;
      deliveries.push(
        lastError === undefined ? { deliveryId, envelope, attempt } : { deliveryId, envelope, attempt, lastError },
      );
    }
    return deliveries;
  }

  /** Moves in-flight entries whose lease ended back to the front of the inbox. */
  #reclaimExpired(box: Inbox, now: number): void {
    let expired: InboxEntry[] | undefined;
    // In-flight entries are in lease order, so the expired ones are a prefix.
    for (const entry of box.inFlight.values()) {
      if (entry.leasedUntil > now) break;
      if (expired === undefined) expired = [];
      expired.push(entry);
    }
    if (expired === undefined) return;
    for (const entry of expired) box.inFlight.delete(entry.deliveryId);
    this.#makeAvailableFirst(box, expired, now);
  }

  /** Puts entries (in their order) ahead of everything available; spent ones go to dead letter. */
  #makeAvailableFirst(box: Inbox, entries: InboxEntry[], now: number): void {
    for (const entry of entries) if (entry.attempt >= this.#maxDeliveries) this.#deadLetter(box, entry, now);
    for (let index = entries.length - 1; index >= 0; index--) {
      const entry = entries[index]!;
      if (entry.attempt < this.#maxDeliveries) box.available.pushFront(entry);
    }
  }

  #deadLetter(box: Inbox, entry: InboxEntry, now: number): void {
    const letter: DeadLetter = { inbox: box.name, envelope: entry.envelope, attempts: entry.attempt, deadAt: now };
    if (entry.lastError !== undefined) letter.error = entry.lastError;
    box.deadLetters.push(letter);
    this.#logger.warn(
      {
        inbox: box.name,
        messageId: entry.envelope.id,
        attempts: entry.attempt,
        ...(entry.lastError?.code ? { code: entry.lastError.code } : {}),
      },
      'InMemoryBus moved a message to dead letter',
    );
    emitDeadLettered(this.#events, box.name, entry.envelope, entry.attempt, entry.lastError);
  }

  /** Hands available entries to blocked readers, oldest reader first, then fixes the lease timer. */
  #dispatch(box: Inbox, now: number): void {
    while (box.waiters.length > 0 && box.available.size > 0) {
      const waiter = box.waiters[0]!;
      const deliveries = this.#take(box, waiter.consumer, waiter.max, now);
      if (deliveries.length === 0) break; // everything left was dead-lettered
      box.waiters.shift();
      settleWaiter(waiter, this.#clock, deliveries);
    }
    this.#updateLeaseTimer(box);
  }

  #wait(
    box: Inbox,
    consumer: string,
    max: number,
    blockMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Delivery[]> {
    const read = addWaiter(box, box.waiters, { consumer, max, blockMs, signal }, this.#clock, this.#leave);
    this.#updateLeaseTimer(box);
    return read;
  }

  /** How a blocked read leaves its inbox (one function for all reads). */
  readonly #leave = (waiter: Waiter): boolean => this.#removeWaiter(waiter.box, waiter);

  #removeWaiter(box: Inbox, waiter: Waiter): boolean {
    if (!removeWaiter(box.waiters, waiter)) return false;
    this.#updateLeaseTimer(box);
    return true;
  }

  /** Whether the lease timer fires no later than the earliest lease in flight ends (or none is in flight). */
  #leasesWatched(box: Inbox): boolean {
    const earliest = box.inFlight.first();
    return earliest === undefined || box.leaseTimer?.armedFor(earliest.leasedUntil) === true;
  }

  /**
   * One timer per inbox, for the earliest lease, while a reader waits and something is in flight.
   * It is armed when needed and never cleared when the need goes away (an ack, a reader that
   * leaves): it fires, finds nothing to do, and is not armed again. An agent reads its next
   * message while its turn is in flight, so arming and clearing it per message cost a timer
   * insert and removal per turn; this way a busy inbox arms it about once per lease.
   */
  #updateLeaseTimer(box: Inbox): void {
    if (box.leaseTimer?.armed || this.#closed || box.waiters.length === 0 || box.inFlight.size === 0) return;
    const earliest = box.inFlight.first() as InboxEntry;
    box.leaseTimer ??= new InboxTimer(this.#clock, () => this.#onLeaseTimer(box));
    box.leaseTimer.armAt(earliest.leasedUntil);
  }

  #onLeaseTimer(box: Inbox): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    this.#reclaimExpired(box, now);
    this.#dispatch(box, now);
    this.#updateLeaseTimer(box);
    // Nothing left to watch: the timer goes until a lease needs one again.
    if (box.leaseTimer?.armed === false) box.leaseTimer = undefined;
  }
}

/** Creates an {@link InMemoryBus}; throws `INVALID_ARGUMENT` for invalid options. */
export function createInMemoryBus(options: InMemoryBusOptions = {}): InMemoryBus {
  return new InMemoryBus(options);
}

function findDuplicate(
  box: Inbox,
  explicitId: string | undefined,
  externalId: string | undefined,
): MessageEnvelope | undefined {
  if (explicitId !== undefined) {
    const original = box.seenIds?.get(explicitId);
    if (original !== undefined) return original;
  }
  if (externalId !== undefined) return box.seenExternalIds?.get(externalId);
  return undefined;
}
