import type { Delivery } from '@agentrix/core';
import type { InboxWaiter } from './implement/blocked-reads.js';
import type { InboxPump } from './implement/inbox-pump.js';
import type { InboxTimer } from './implement/inbox-timer.js';
import type { InboxKeys } from './redis-keys.js';
import type { RawRead } from './redis-script-batches.js';
import { READ_HANDOFF, READ_WANT_HINT } from './redis-scripts.js';

/** A blocked `read` of the Redis bus. */
export type Waiter = InboxWaiter<WaitingInbox>;

/**
 * Local readers of one inbox: the blocked reads and the loop that feeds them, and what a reader
 * loop's ack fetched for its next read. Kept while the wake-up hub listens to the inbox.
 */
export interface WaitingInbox {
  readonly name: string;
  readonly keys: InboxKeys;
  readonly waiters: Waiter[];
  /** Consumer of the last blocked read: the reader loop an ack fetches the next message for. */
  lastConsumer: string | undefined;
  /** Deliveries held for `lastConsumer`'s next read (fetched with its ack, or handed off between reads). */
  prefetched: Delivery[] | undefined;
  /** When `prefetched` (or an arm made by an ack) is given up if the reader has not come back; 0: nothing held. */
  holdUntil: number;
  /** In the prefetch cache's list of boxes to sweep (while `holdUntil` is set, and until the next sweep after). */
  listed: boolean;
  /** The loop that feeds the waiters. */
  readonly pump: InboxPump;
  /** An ack is fetching the reader loop's next message: no loop starts meanwhile (its end pumps if someone waits). */
  fetching: boolean;
  /**
   * What that fetch asked: for whom, its read flags, and the hub's sequence when it was issued.
   * Kept here (one fetch per inbox at a time) so that the fetch's reply is handled by the box's
   * own two callbacks below, not by three closures made per ack (with `waiterOf`: 7.9 -> 7.3 KB
   * allocated by Node per message with 100 agents, bench/bus/allocation.ts; the wake path's
   * readers 6.0 -> 5.2 KB, wake-split.ts).
   */
  fetchConsumer: string;
  fetchFlags: number;
  fetchIssuedAt: number;
  readonly onFetched: (reply: RawRead) => Promise<void> | undefined;
  readonly onFetchFailed: (error: unknown) => never;
  /** The next read must look for expired leases (a lease-end timer fired). */
  checkLeases: boolean;
  /**
   * The consumer a drained read of this inbox armed a hand-off for (the next send hands its
   * message to that consumer of this bus in the wake-up); undefined once any wake-up came.
   */
  armedFor: string | undefined;
  /** The reader's last message came in a hand-off: its ack's read looks whether the inbox is empty first. */
  handedOff: boolean;
  /**
   * Fetches by the reader loop's acks in a row that took what they asked for (a backlog); from 2
   * the next fetch reads with a plain `XREADGROUP` (see RedisScriptBatches). Reset by a fetch
   * that drained the inbox and by a hand-off.
   */
  fullFetches: number;
  /** When the reader loop last took what was held for it (the clock's ms): its turn's start. */
  takenAt: number;
  /** The earliest lease end while the inbox is drained, or the retry of a failed loop. */
  readonly timer: InboxTimer;
  /**
   * Set while the last blocked reader of the inbox left (abort, timeout) with a read in flight
   * or the inbox armed for it, until the loop stopped and the arm was taken back: this process's
   * sends to the inbox wait for it, so none is handed to the reader that left.
   */
  leaving: Promise<void> | undefined;
  endLeaving: (() => void) | undefined;
}

/** The callbacks of a box's fetches (see `onFetched`). */
export interface FetchHandlers {
  fetched(box: WaitingInbox, reply: RawRead): Promise<void> | undefined;
  failed(box: WaitingInbox, error: unknown): never;
}

export function createWaitingInbox(
  name: string,
  keys: InboxKeys,
  pump: InboxPump,
  timer: InboxTimer,
  handlers: FetchHandlers,
): WaitingInbox {
  const box: WaitingInbox = {
    name,
    keys,
    waiters: [],
    pump,
    fetching: false,
    fetchConsumer: '',
    fetchFlags: 0,
    fetchIssuedAt: 0,
    onFetched: (reply) => handlers.fetched(box, reply),
    onFetchFailed: (error) => handlers.failed(box, error),
    checkLeases: false,
    armedFor: undefined,
    handedOff: false,
    fullFetches: 0,
    takenAt: Number.NEGATIVE_INFINITY,
    lastConsumer: undefined,
    prefetched: undefined,
    holdUntil: 0,
    listed: false,
    timer,
    leaving: undefined,
    endLeaving: undefined,
  };
  return box;
}

/** The first blocked read of `consumer` on the box (a loop, not `find`: no closure per wake-up). */
export function waiterOf(box: WaitingInbox, consumer: string | undefined): Waiter | undefined {
  const waiters = box.waiters;
  for (let index = 0; index < waiters.length; index++) {
    if (waiters[index]!.consumer === consumer) return waiters[index];
  }
  return undefined;
}

/** Someone reads for the inbox right now (its loop, or an ack fetching ahead). */
export function isReading(box: WaitingInbox): boolean {
  return box.pump.running || box.fetching;
}

/** Flags of a read for a blocked reader: a hint, and a hand-off unless the consumer name cannot carry one. */
export function blockedReadFlags(consumer: string): number {
  // A hand-off names the consumer after a line break: a name with one gets plain wake-ups.
  return consumer.includes('\n') ? READ_WANT_HINT : READ_WANT_HINT | READ_HANDOFF;
}
