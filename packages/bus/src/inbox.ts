import type { DeadLetter, MessageEnvelope, SerializedError } from '@agentrix/core';
import type { DedupeWindow } from './dedupe-window.js';
import { Deque } from './deque.js';
import type { InboxWaiter } from './implement/blocked-reads.js';
import type { InboxTimer } from './implement/inbox-timer.js';
import { InFlight } from './in-memory-bus-in-flight.js';

/** One message in one inbox, from `send` until `ack` (or dead letter). */
export interface InboxEntry {
  /** Stays the same across redeliveries, so a late `ack` still counts. */
  readonly deliveryId: string;
  readonly envelope: MessageEnvelope;
  /** Deliveries so far. */
  attempt: number;
  lastError: SerializedError | undefined;
  /** The consumer holding it while in flight. */
  consumer: string;
  /** Epoch milliseconds when the current lease ends. */
  leasedUntil: number;
}

/** A blocked `read` of the in-memory bus. */
export type Waiter = InboxWaiter<Inbox>;

/** Everything the in-memory bus keeps for one inbox. */
export interface Inbox {
  readonly name: string;
  /** Ready for delivery: redeliveries at the front, first deliveries in send order behind them. */
  readonly available: Deque<InboxEntry>;
  /** Delivered and not acked, in lease order (a re-lease deletes and re-inserts), keyed by delivery id. */
  readonly inFlight: InFlight;
  deadLetters: DeadLetter[];
  /** Blocked reads, first come first served. Non-empty only while `available` is empty. */
  readonly waiters: Waiter[];
  /**
   * At most one timer per inbox, for the earliest lease expiry, only while a reader waits. Made
   * when first armed and dropped when it fires with nothing in flight: an idle agent's inbox
   * holds no timer (about 300 bytes less an idle agent, bench/runtime section 3).
   */
  leaseTimer: InboxTimer | undefined;
  /** De-duplication memory, created on first use. */
  seenIds: DedupeWindow | undefined;
  seenExternalIds: DedupeWindow | undefined;
}

export function createInbox(name: string): Inbox {
  return {
    name,
    available: new Deque<InboxEntry>(),
    inFlight: new InFlight(),
    deadLetters: [],
    waiters: [],
    leaseTimer: undefined,
    seenIds: undefined,
    seenExternalIds: undefined,
  };
}
