import { RedisBatcher } from './redis-batcher.js';
import type { RedisBusContext } from './redis-bus-context.js';
import { redisError, withDeadline } from './redis-client.js';
import { isReplyText, replyText } from './redis-entries.js';
import type { InboxKeys } from './redis-keys.js';
import { corked, sendPlainCommand } from './redis-script-command.js';
import {
  READ_CHECK_LEASES,
  READ_MAYBE_EMPTY,
  READ_TAKEN,
  READ_TRIM,
  readBatchScript,
  sendBatchScript,
} from './redis-scripts.js';

/**
 * Most sends, reads (inboxes) and acks (inboxes) in one batch script. Small batches keep Node and
 * Redis busy at the same time: while Redis runs one batch, Node handles the replies of the one
 * before (bench/bus: 24 per batch sustained about 1.4x the throughput of 128).
 */
const MAX_SEND_BATCH = 24;
const MAX_READ_BATCH = 24;

/**
 * Acks of one inbox (by this process) between two trims of its acked entries (READ_TRIM): an inbox
 * stream holds at most about this many acked entries besides those behind a delivery in flight.
 * Redis instructions per message (bench/bus/redis-instructions.ts, 100 agents): 156,000 with an
 * XDEL per ack; with a trim every 4 acks 141,800, every 16 135,200, every 64 132,700.
 */
const ACKS_PER_TRIM = 16;
/** Inboxes whose acks are counted; past that the counts start over (as the key-name cache does). */
const ACK_COUNTS_SIZE = 50_000;

export interface SendItem {
  readonly inbox: string;
  readonly envelope: string;
  readonly explicitId: string;
  readonly externalId: string;
}

/** A send's reply: 1 when appended, else `[0, the original envelope's JSON]` (a duplicate). */
export type SendReply = 1 | [0, string];

export interface ReadItem {
  readonly inbox: string;
  /** '' with max 0: an ack only. */
  readonly consumer: string;
  readonly max: number;
  /** READ_WANT_HINT | READ_CHECK_LEASES | READ_HANDOFF | READ_MAYBE_EMPTY (READ_TRIM is added here) */
  readonly flags: number;
  /** Entry ids acked before reading. */
  readonly ack: readonly string[];
  /** A reader loop's fetch from an inbox with a backlog: may read with a plain `XREADGROUP`. */
  readonly plain?: boolean;
}

/** A bulk string of a reply taken as buffers (see `ReplyForm`): a Buffer, or a string through a `Cluster`. */
type Bulk = Buffer | string;

/** The entries one stream gave a plain `XREADGROUP`: id and fields (name, value, ...) each. */
type PlainEntries = Array<[Bulk, Bulk[]]>;

/** A plain `XREADGROUP` reply: per stream with new entries, its key and the entries. */
type XReadGroupReply = Array<[Bulk, PlainEntries]> | null;

/**
 * One inbox's part of a read reply: 1, hintMs, more, deadCount, 4 per dead letter, 4 per delivery
 * (see the read script). Its strings come as buffers (`replyText` makes strings of them): ioredis
 * would otherwise copy every array of the reply to turn each buffer into a string, key and field
 * names included (100 agents: 7.3 -> 6.8 KB allocated by Node per message, bench/bus/allocation.ts).
 */
export type RawRead = Array<Bulk | number>;

const NO_KEYS: readonly string[] = [];
/** The replies of a send batch whose every message was appended (the script's reply 1): a 1 per item. */
const ALL_SENT: SendReply[] = new Array<SendReply>(MAX_SEND_BATCH).fill(1);
const NO_IDS: readonly string[] = [];
const NO_INDEXES: readonly number[] = [];

/** Keys the send script touches for one inbox (declared on a cluster). */
function sendKeys(keys: InboxKeys): readonly string[] {
  return [keys.stream, keys.seen, keys.seenIds, keys.seenExternal, keys.armed];
}

/** Keys the read script touches for one inbox (declared on a cluster). */
function readKeys(keys: InboxKeys): readonly string[] {
  return [keys.stream, keys.errors, keys.dead, keys.reclaim, keys.armed];
}

/** The `envelope` field of a stream entry's fields (name, value, ...), if any. */
function envelopeField(fields: readonly Bulk[]): string | undefined {
  for (let index = 0; index < fields.length; index += 2) {
    if (isReplyText(fields[index], 'envelope')) return replyText(fields[index + 1]);
  }
  return undefined;
}

/** Where `key` is in `streams`, looked for from `from` first (Redis answers in the order asked); -1 if absent. */
function streamIndex(streams: readonly string[], key: Bulk, from: number): number {
  for (let index = from; index < streams.length; index++) if (isReplyText(key, streams[index]!)) return index;
  for (let index = 0; index < from; index++) if (isReplyText(key, streams[index]!)) return index;
  return -1;
}

/** Whether an item at one of `indexes` is of `inbox`. */
function hasInbox(items: readonly ReadItem[], indexes: readonly number[], inbox: string): boolean {
  for (const index of indexes) if (items[index]!.inbox === inbox) return true;
  return false;
}

/** A per-item failure of a batch script (Redis refused one inbox's part): INTERNAL, like a refused script. */
function itemError(reply: unknown): Error | undefined {
  if (!Array.isArray(reply) || reply[0] !== -1) return undefined;
  const error = new Error(String(reply[1]));
  error.name = 'ReplyError';
  return error;
}

/**
 * The bus's hot path: every send, read and ack made in one tick goes to Redis as one batch script
 * (see {@link RedisBatcher}); on a cluster, one script per slot.
 */
export class RedisScriptBatches {
  readonly #context: RedisBusContext;
  readonly #sends: RedisBatcher<SendItem, SendReply>;
  /** Reads and acks (one script for both). */
  readonly #reads: RedisBatcher<ReadItem, RawRead>;
  /** Acks per inbox since its last READ_TRIM. */
  readonly #acksSinceTrim = new Map<string, number>();

  constructor(context: RedisBusContext) {
    this.#context = context;
    const whereOf = (inbox: string) => context.located(inbox, context.keys.inbox(inbox).slot);
    this.#sends = new RedisBatcher(
      MAX_SEND_BATCH,
      (items) => this.#runSends(items),
      (error, item) => redisError(error, 'send', whereOf(item.inbox)),
    );
    this.#reads = new RedisBatcher(
      MAX_READ_BATCH,
      (items) => this.#runReads(items),
      (error, item) => redisError(error, item.max === 0 ? 'ack' : 'read', whereOf(item.inbox)),
    );
  }

  send(item: SendItem): Promise<SendReply> {
    return this.#sends.add(item);
  }

  /** A read, an ack, or both (an ack that fetches the reader's next message). */
  read(item: ReadItem): Promise<RawRead> {
    return this.#reads.add(item.ack.length > 0 ? this.#countAcks(item) : item);
  }

  /** The item, asking for a trim of the inbox's acked entries every ACKS_PER_TRIM acks. */
  #countAcks(item: ReadItem): ReadItem {
    const counts = this.#acksSinceTrim;
    const count = (counts.get(item.inbox) ?? 0) + item.ack.length;
    if (count < ACKS_PER_TRIM) {
      if (counts.size >= ACK_COUNTS_SIZE) counts.clear();
      counts.set(item.inbox, count);
      return item;
    }
    // Set to 0, not deleted: a long-lived Map whose table fills with deleted entries rehashes
    // into a new table in old space (see PrefetchCache's `#holding`).
    counts.set(item.inbox, 0);
    return { ...item, flags: item.flags | READ_TRIM };
  }

  /** Sends whatever was queued this tick (before the connections close). */
  flush(): void {
    this.#sends.flush();
    this.#reads.flush();
  }

  #runSends(items: SendItem[]): Promise<Array<SendReply | Error>> {
    if (!this.#context.cluster) return this.#sendScript(items, NO_KEYS);
    return this.#perSlot(items, sendKeys, (group, keys) => this.#sendScript(group, keys));
  }

  async #sendScript(items: SendItem[], keys: readonly string[]): Promise<Array<SendReply | Error>> {
    const context = this.#context;
    const args: Array<string | number> = [
      context.keys.inboxPrefix,
      context.keys.wakePrefix,
      context.dedupeWindow,
      context.group,
    ];
    for (const item of items) {
      // Two arguments for a message without ids (see the send script).
      if (item.explicitId === '' && item.externalId === '') args.push(item.inbox, item.envelope);
      else args.push('', item.inbox, item.envelope, item.explicitId, item.externalId);
    }
    const replies = (await withDeadline(sendBatchScript.run(context.client, keys, args), context.commandTimeoutMs)) as
      | 1
      | SendReply[];
    // 1: every message appended (the batcher reads one result per item of the batch, no more).
    if (replies === 1) return ALL_SENT;
    return replies.map((reply) => (reply === 1 ? reply : (itemError(reply) ?? reply)));
  }

  #runReads(items: ReadItem[]): Promise<Array<RawRead | Error>> {
    if (this.#context.cluster) {
      return this.#perSlot(items, readKeys, (group, keys) => this.#readBatchScript(group, keys));
    }
    let plain: number[] | undefined;
    for (let index = 0; index < items.length; index++) {
      const item = items[index]!;
      if (item.plain !== true || item.max === 0 || (item.flags & (READ_CHECK_LEASES | READ_MAYBE_EMPTY)) !== 0)
        continue;
      if (plain === undefined) plain = [index];
      else if (!hasInbox(items, plain, item.inbox)) plain.push(index);
    }
    if (plain === undefined) return this.#readBatchScript(items, NO_KEYS);
    return this.#readWithPlain(items, plain);
  }

  /**
   * The common read of a busy inbox without Lua: the next messages of reader loops whose ack
   * fetches ahead from a backlog (`plain`: the last two fetches took what they asked for; no lease
   * check due, the inbox not just emptied by a hand-off) come from one
   * plain `XREADGROUP` per consumer and count over all their streams, written to the socket
   * together with the script that acks (one write), so Redis runs it first. A script call costs
   * Redis about 4,200 instructions per command inside it, and an `XREADGROUP` reply turned into
   * Lua values and back to the protocol as much again; a plain reply goes to the socket as it is.
   * Those items run in the script with READ_TAKEN: ack, and claim parked deliveries when the
   * `reclaim` marker is set; the marker is looked at after the plain read, so a delivery parked
   * before it is claimed here (and put before what the plain read took) or was already claimed by
   * another reader. An item that took nothing from either is read again by the script as before,
   * which arms the inbox when it is drained; so is every item of a plain read that failed (a
   * stream without the group yet, an outage).
   *
   * `plain`: indexes of those items, ascending: no Set of items, Map of groups or copied item
   * (100 agents: 8.7 -> 8.2 KB allocated by Node per message, `bench/bus/allocation.ts`).
   */
  async #readWithPlain(items: ReadItem[], plain: number[]): Promise<Array<RawRead | Error>> {
    const taken = new Array<PlainEntries | undefined>(items.length);
    // One write for the reads and the script: a second write costs Node a socket write per batch.
    const [reads, scripted] = corked(this.#context.client, () => [
      this.#plainReads(items, plain, taken),
      this.#readBatchScript(items, NO_KEYS, plain),
    ]);
    const [, replies] = await Promise.all([reads, scripted]);
    let again: ReadItem[] | undefined;
    let againAt: number[] | undefined;
    for (const index of plain) {
      const reply = replies[index]!;
      if (reply instanceof Error) continue;
      const entries = taken[index];
      if (entries !== undefined) {
        // After what the script claimed: parked deliveries first.
        for (let at = 0; at < entries.length; at++) {
          const entry = entries[at]!;
          reply.push(replyText(entry[0]), 1, envelopeField(entry[1]) ?? '', '');
        }
      } else if (reply.length === 4) {
        // Nothing new, nothing parked, nothing dead-lettered: read (and arm) as before.
        const item = items[index]!;
        if (again === undefined || againAt === undefined) {
          again = [];
          againAt = [];
        }
        again.push({
          inbox: item.inbox,
          consumer: item.consumer,
          max: item.max,
          flags: item.flags & ~READ_TRIM,
          ack: NO_IDS,
        });
        againAt.push(index);
      }
    }
    if (again !== undefined && againAt !== undefined) {
      const read = await this.#readBatchScript(again, NO_KEYS);
      for (let index = 0; index < again.length; index++) replies[againAt[index]!] = read[index]!;
    }
    return replies;
  }

  /**
   * The plain reads of {@link #readWithPlain}, sent before this returns, one per consumer and
   * count: the entries each item took go to `taken` at its index (an entry without an `envelope`
   * field gets '', which the reader dead-letters as not an envelope). A failed read takes nothing.
   */
  #plainReads(items: ReadItem[], plain: number[], taken: Array<PlainEntries | undefined>): Promise<unknown> {
    const context = this.#context;
    const reads: Array<Promise<void>> = [];
    // Usually all of one consumer (one per process) and count (a reader loop's 1): one read.
    let rest: number[] | undefined = plain;
    while (rest !== undefined) {
      const group: number[] = rest;
      rest = undefined;
      const first = items[group[0]!]!;
      const streams: string[] = [];
      const at: number[] = [];
      for (const index of group) {
        const item = items[index]!;
        if (item.consumer === first.consumer && item.max === first.max) {
          streams.push(context.keys.inbox(item.inbox).stream);
          at.push(index);
        } else if (rest === undefined) rest = [index];
        else rest.push(index);
      }
      const args: string[] = ['GROUP', context.group, first.consumer, 'COUNT', String(first.max), 'STREAMS'];
      for (const stream of streams) args.push(stream);
      for (let index = 0; index < streams.length; index++) args.push('>');
      const read = withDeadline(
        sendPlainCommand(context.client, 'xreadgroup', args, 'buffers'),
        context.commandTimeoutMs,
      ).then(
        (reply) => {
          // Streams with new entries, in the order they were asked for (Redis keeps it).
          const found = (reply as XReadGroupReply) ?? [];
          let next = 0;
          for (let index = 0; index < found.length; index++) {
            const part = found[index]!;
            const position = streamIndex(streams, part[0], next);
            if (position < 0) continue;
            if (part[1].length > 0) taken[at[position]!] = part[1];
            next = position + 1;
          }
        },
        () => {},
      );
      reads.push(read);
    }
    return Promise.all(reads);
  }

  /** The batch script; the items at the indexes `taken` (ascending) run with READ_TAKEN. */
  async #readBatchScript(
    items: ReadItem[],
    keys: readonly string[],
    taken: readonly number[] = NO_INDEXES,
  ): Promise<Array<RawRead | Error>> {
    const context = this.#context;
    const args: Array<string | number> = [
      context.keys.inboxPrefix,
      context.group,
      context.leaseMs,
      context.maxDeliveries,
      context.clock.now(),
      context.deadLetterMaxLength,
      context.token,
      // The consumer and max of the short READ_TAKEN items (`t`): the first one's.
      taken.length > 0 ? items[taken[0]!]!.consumer : '',
      taken.length > 0 ? items[taken[0]!]!.max : '',
    ];
    const fetcher = args[7];
    const fetchMax = args[8];
    let next = 0;
    for (let index = 0; index < items.length; index++) {
      const item = items[index]!;
      let flags = item.flags;
      if (taken[next] === index) {
        flags |= READ_TAKEN;
        next++;
      }
      // The short forms of the read script (three arguments instead of six): an ack of one id that
      // reads nothing, and the ack of a reader loop's message whose next ones the plain read took.
      if (item.ack.length === 1 && (flags & READ_TRIM) === 0) {
        if (item.max === 0) {
          args.push(item.inbox, 'a', item.ack[0]!);
          continue;
        }
        if ((flags & READ_TAKEN) !== 0 && item.max === fetchMax && item.consumer === fetcher) {
          args.push(item.inbox, 't', item.ack[0]!);
          continue;
        }
      }
      args.push(item.inbox, flags, item.consumer, item.max, item.ack.length);
      for (const id of item.ack) args.push(id);
    }
    const replies = (await withDeadline(
      readBatchScript.run(context.client, keys, args, 'buffers'),
      context.commandTimeoutMs,
    )) as unknown[];
    // 1: a short item that acked and read nothing (ACKED in the script, as a number: no table).
    return replies.map((reply) => (reply === 1 ? [1, -1, 1, 0] : (itemError(reply) ?? (reply as RawRead))));
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
      const inboxKeys = this.#context.keys.inbox(item.inbox);
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
}
