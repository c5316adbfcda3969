import type { Clock } from './clock.js';
import type { SerializedError } from './errors.js';
import type { AgentrixEvents } from './events.js';
import type { IdGenerator } from './ids.js';
import type { BroadcastInput, MessageEnvelope, SendInput } from './message.js';

/** One message handed to a reader. It stays pending until acked (or nacked). */
export interface Delivery {
  /** Pass this to `ack` / `nack`. */
  deliveryId: string;
  envelope: MessageEnvelope;
  /** 1 on first delivery, more after redeliveries. */
  attempt: number;
  /** The error recorded by the last `nack`, if any. */
  lastError?: SerializedError;
}

export interface ReadOptions {
  /** Who is reading; leases are held per consumer. Default: the bus's own consumer name. */
  consumer?: string;
  /** Most deliveries to return. Default 16. */
  max?: number;
  /**
   * How long to wait when nothing is unread: `0` returns at once, a number waits up to that
   * many milliseconds, `undefined` waits until a message arrives or `signal` aborts.
   */
  blockMs?: number;
  /** When it fires, the read rejects with an `ABORTED` AgentrixError and takes nothing. */
  signal?: AbortSignal;
}

export interface NackOptions {
  /** Why the message failed; kept with it and moved to dead letter with it. */
  error?: unknown;
}

export interface DeadLetter {
  inbox: string;
  envelope: MessageEnvelope;
  attempts: number;
  error?: SerializedError;
  deadAt: number;
}

/** Which dead letters `redrive` sends back. */
export interface RedriveOptions {
  /** Only the dead letters of these message ids (`envelope.id`); ids with no dead letter are skipped. */
  ids?: readonly string[];
  /** At most this many, oldest first. Default: all. */
  limit?: number;
}

export interface InboxStats {
  /** Waiting to be read (new, or released for redelivery). */
  unread: number;
  /** Delivered to a reader and not acked yet. */
  inFlight: number;
  deadLetters: number;
}

/**
 * The message bus port: durable inboxes with at-least-once delivery.
 *
 * - A message is pending from `send` until `ack`. A delivery whose consumer dies or whose
 *   lease expires is given to the next reader; after `maxDeliveries` it goes to dead letter.
 * - Order is kept per inbox for first deliveries.
 * - `read` blocks without polling until a message arrives, `blockMs` passes or the signal fires.
 * - A delivery id stays the same across redeliveries (a late ack still counts); `ack` and
 *   `nack` ignore unknown ids.
 * - Group operations on a missing group throw `GROUP_NOT_FOUND`; `members()` and `groups()` are sorted.
 * - After `close()` every method rejects with `CLOSED`; reads blocked at that moment resolve with `[]`.
 */
export interface MessageBus extends AsyncDisposable {
  /** How long a delivery stays leased to its reader without an ack or `extendLease`. */
  readonly leaseMs: number;
  /** Deliveries of a message before it moves to dead letter (a delivery with this `attempt` is its last). */
  readonly maxDeliveries: number;
  send(input: SendInput): Promise<MessageEnvelope>;
  /**
   * `send`, with nothing to wait for when the bus sends in process: the envelope once the message
   * is in its inbox, else `send`'s promise (a bus that needs I/O returns `send(...)`). Errors come
   * as that promise, never thrown. A caller that sends once per ask (the runtime's request/reply)
   * saves a promise and a microtask per message.
   */
  sendNow(input: SendInput): MessageEnvelope | Promise<MessageEnvelope>;
  /** A copy to every member's inbox. */
  broadcast(input: BroadcastInput): Promise<MessageEnvelope[]>;
  read(inbox: string, options?: ReadOptions): Promise<Delivery[]>;
  ack(inbox: string, deliveryIds: readonly string[]): Promise<void>;
  /**
   * `ack`, with nothing to wait for when the bus acks in process: `undefined` once the deliveries
   * are removed, else `ack`'s promise (a bus that needs I/O returns `ack(...)`). A caller that
   * acks once per message (the runtime's commit) saves a promise and an `await` per message.
   */
  ackNow(inbox: string, deliveryIds: readonly string[]): Promise<void> | undefined;
  /**
   * Restarts the lease of deliveries that `consumer` (default: the bus's own) still holds: the
   * heartbeat of a long turn. Returns how many were still held; a delivery that expired and
   * went to another reader is not taken back.
   */
  extendLease(inbox: string, deliveryIds: readonly string[], options?: { consumer?: string }): Promise<number>;
  /** Gives a delivery back for redelivery now, recording why it failed. */
  nack(inbox: string, deliveryId: string, options?: NackOptions): Promise<void>;
  /** Makes every delivery held by `consumer` available again (the consumer died). */
  releaseConsumer(inbox: string, consumer: string): Promise<number>;
  stats(inbox: string): Promise<InboxStats>;
  /** Oldest first; at most `limit` (default 100). */
  deadLetters(inbox: string, options?: { limit?: number }): Promise<DeadLetter[]>;
  /**
   * Sends dead letters (all, or those of `ids`, at most `limit`) back into their inbox with new
   * delivery ids and attempt 0. Returns how many; a message id with no dead letter counts 0.
   */
  redrive(inbox: string, options?: RedriveOptions): Promise<number>;
  /** Deletes the dead letters of these message ids for good. Returns how many; a message id with no dead letter counts 0. */
  discardDeadLetters(inbox: string, ids: readonly string[]): Promise<number>;
  /** Drops an inbox and everything in it. */
  deleteInbox(inbox: string): Promise<void>;

  createGroup(group: string): Promise<void>;
  deleteGroup(group: string): Promise<void>;
  join(group: string, member: string): Promise<void>;
  leave(group: string, member: string): Promise<void>;
  members(group: string): Promise<string[]>;
  groups(): Promise<string[]>;

  /** Stops blocked reads (they resolve with no deliveries) and releases what the bus opened. */
  close(): Promise<void>;
}

/** Options every MessageBus implementation takes (each adds its own). */
export interface MessageBusOptions {
  /** Where time comes from (`createdAt`, leases, `blockMs`). Default: `systemClock`. */
  clock?: Clock;
  /** Ids for messages the sender did not name. Default: `randomId` (UUID v4). */
  generateId?: IdGenerator;
  /** Receives `message.sent` (only built when someone listens) and `message.dead-lettered`. */
  events?: AgentrixEvents;
  /** Consumer name used by `read` when the caller gives none. Default `'default'`. */
  consumer?: string;
  /** A delivery not acked (or extended) within this many milliseconds is given to the next reader. Default 30_000. */
  leaseMs?: number;
  /** Deliveries a message gets before it moves to dead letter (with its last nack error). Default 5. */
  maxDeliveries?: number;
  /** Largest message, in UTF-8 bytes of `content` plus the JSON of `data`. Default 1 MiB. */
  maxMessageBytes?: number;
}
