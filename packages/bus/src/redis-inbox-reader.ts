import type { Delivery } from '@agentrix/core';
import type { RedisBusContext } from './redis-bus-context.js';
import type { RawDeadLetter, RawDelivery, RedisDeadLetters } from './redis-dead-letters.js';
import { parseEnvelope, parseError, replyText } from './redis-entries.js';
import type { InboxKeys } from './redis-keys.js';
import type { RedisLeaseManager } from './redis-lease-manager.js';
import type { RawRead, ReadItem, RedisScriptBatches } from './redis-script-batches.js';

export interface ReadResult {
  deliveries: Delivery[];
  /** Milliseconds until the earliest in-flight lease of the inbox ends; -1 for none. */
  hintMs: number;
  /** False when the read drained the inbox (and armed it: the next send publishes a wake-up). */
  more: boolean;
}

type ReadOutcome = ReadResult & { sawMalformed: boolean };

const NO_IDS: readonly string[] = [];

/** One read of an inbox that does not wait: the read script (batched) and what its reply means. */
export class RedisInboxReader {
  readonly #context: RedisBusContext;
  readonly #batches: RedisScriptBatches;
  readonly #leases: RedisLeaseManager;
  readonly #deadLetters: RedisDeadLetters;

  constructor(
    context: RedisBusContext,
    batches: RedisScriptBatches,
    leases: RedisLeaseManager,
    deadLetters: RedisDeadLetters,
  ) {
    this.#context = context;
    this.#batches = batches;
    this.#leases = leases;
    this.#deadLetters = deadLetters;
  }

  /**
   * One read script; entries that are not envelopes of this bus go to dead letter and the read
   * is repeated (a few times) so that malformed entries never hide the messages behind them.
   */
  read(keys: InboxKeys, inbox: string, consumer: string, max: number, flags: number, round = 1): Promise<ReadResult> {
    const item: ReadItem = { inbox, consumer, max, flags: this.#leases.checkFlag(inbox, flags), ack: NO_IDS };
    return this.#batches
      .read(item)
      .then((reply) => this.reply(keys, inbox, reply))
      .then((result) => {
        if (result.deliveries.length > 0 || !result.sawMalformed) return result;
        if (round >= 10) return { deliveries: [], hintMs: 0, more: true };
        return this.read(keys, inbox, consumer, max, flags, round + 1);
      });
  }

  /** Deliveries of one read reply; entries that are not envelopes go to dead letter (then a promise). */
  reply(keys: InboxKeys, inbox: string, reply: RawRead): ReadOutcome | Promise<ReadOutcome> {
    const hintMs = reply[1] as number;
    const more = reply[2] as number;
    const deadCount = reply[3] as number;
    let sawMalformed = false;
    let index = 4;
    if (deadCount > 0) {
      const dead: RawDeadLetter[] = [];
      for (let letter = 0; letter < deadCount; letter++, index += 4) {
        const kind = replyText(reply[index]);
        // Entries without an envelope field were dead-lettered by the script itself.
        if (kind === 'raw') sawMalformed = true;
        dead.push([kind, replyText(reply[index + 1]), reply[index + 2] as number, replyText(reply[index + 3])]);
      }
      this.#deadLetters.announce(inbox, dead);
    }
    const deliveries: Delivery[] = [];
    let malformed: RawDelivery[] | undefined;
    for (; index < reply.length; index += 4) {
      const deliveryId = replyText(reply[index]);
      const attempt = reply[index + 1] as number;
      const json = replyText(reply[index + 2]);
      const envelope = parseEnvelope(json);
      const error = replyText(reply[index + 3]);
      if (envelope === undefined) {
        if (malformed === undefined) malformed = [];
        malformed.push([deliveryId, attempt, json, error]);
        continue;
      }
      const lastError = parseError(error);
      if (attempt > 1) {
        this.#context.logger.info(
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
    return this.#deadLetters.deadLetterMalformed(keys, inbox, malformed).then(() => result);
  }
}
