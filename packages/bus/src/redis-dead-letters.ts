import type { DeadLetter, RedriveOptions, SerializedError } from '@agentrix/core';
import { messageIds } from '@agentrix/core/implement';
import { emitDeadLettered } from './implement/dead-letter-events.js';
import type { RedisBusContext } from './redis-bus-context.js';
import { redriveEntriesScript, redriveScript } from './redis-dead-letter-scripts.js';
import { malformedEnvelope, NOT_AN_ENVELOPE_ERROR, parseEnvelope, parseError, toDeadLetter } from './redis-entries.js';
import type { InboxKeys } from './redis-keys.js';
import { deadLetterScript } from './redis-lease-scripts.js';

/** Dead letters per redrive script or per page of a search by message id. */
const DEAD_LETTER_PAGE = 1000;

/** A dead letter as the scripts report it: `envelope` or `raw`, the entry, its attempts, its error JSON. */
export type RawDeadLetter = [kind: string, payload: string, attempts: number, error: string];
/** A delivery as the read script returns it. */
export type RawDelivery = [entryId: string, attempt: number, envelope: string, lastError: string];

/**
 * Each inbox's dead-letter stream (`{inbox}:dead`): what the scripts moved there is logged and
 * announced here, and listed, redriven and discarded.
 */
export class RedisDeadLetters {
  readonly #context: RedisBusContext;

  constructor(context: RedisBusContext) {
    this.#context = context;
  }

  /** Logs and emits `message.dead-lettered` for letters a script just moved. */
  announce(inbox: string, letters: readonly RawDeadLetter[]): void {
    if (letters.length === 0) return;
    const { events, logger, clock } = this.#context;
    for (const [kind, payload, attempts, errorJson] of letters) {
      const envelope =
        (kind === 'envelope' ? parseEnvelope(payload) : undefined) ??
        malformedEnvelope(inbox, 'unknown', payload, clock.now());
      const error: SerializedError | undefined = parseError(errorJson);
      logger.warn(
        { inbox, messageId: envelope.id, attempts: Number(attempts), ...(error?.code ? { code: error.code } : {}) },
        'RedisStreamsBus moved a message to dead letter',
      );
      emitDeadLettered(events, inbox, envelope, Number(attempts), error);
    }
  }

  /** Moves entries that are not envelopes of this bus (written by something else) to dead letter. */
  async deadLetterMalformed(
    keys: InboxKeys,
    inbox: string,
    malformed: readonly RawDelivery[],
    error = NOT_AN_ENVELOPE_ERROR,
  ): Promise<void> {
    const context = this.#context;
    for (const entry of malformed) {
      const letters = (await context.call('read', inbox, () =>
        deadLetterScript.run(
          context.client,
          [keys.stream, keys.errors, keys.dead],
          [context.group, entry[0], entry[1], context.clock.now(), context.deadLetterMaxLength, error],
        ),
      )) as RawDeadLetter[];
      this.announce(inbox, letters);
    }
  }

  /** The oldest dead letters first, at most `limit`. */
  async list(inbox: string, limit: number): Promise<DeadLetter[]> {
    const context = this.#context;
    const keys = context.keys.inbox(inbox);
    const entries = (await context.call('deadLetters', inbox, () =>
      context.client.call('XRANGE', keys.dead, '-', '+', 'COUNT', limit),
    )) as Array<[string, string[]]>;
    return entries.map(([id, fields]) => toDeadLetter(inbox, id, fields));
  }

  /** Moves the oldest dead letters (all, or those of `ids`, at most `limit`) back to the inbox. */
  async redrive(inbox: string, options: RedriveOptions | undefined, limit: number): Promise<number> {
    const context = this.#context;
    const keys = context.keys.inbox(inbox);
    let moved = 0;
    if (options?.ids !== undefined) {
      const entries = await this.#entries(inbox, messageIds(options.ids, 'redrive'), limit);
      if (entries.length > 0) {
        moved = Number(
          await context.call('redrive', inbox, () =>
            redriveEntriesScript.run(context.client, [keys.dead, keys.stream], [keys.wakeChannel, ...entries]),
          ),
        );
      }
      return moved;
    }
    // In slices, so one script never holds Redis for long.
    while (moved < limit) {
      const count = Math.min(DEAD_LETTER_PAGE, limit - moved);
      const slice = Number(
        await context.call('redrive', inbox, () =>
          redriveScript.run(context.client, [keys.dead, keys.stream], [count, keys.wakeChannel]),
        ),
      );
      moved += slice;
      if (slice < count) break;
    }
    return moved;
  }

  /** Deletes the dead letters of these message ids (one XDEL: an entry deleted meanwhile counts 0). */
  async discard(inbox: string, ids: readonly string[]): Promise<number> {
    const context = this.#context;
    const entries = await this.#entries(inbox, messageIds(ids, 'discardDeadLetters'), Number.POSITIVE_INFINITY);
    if (entries.length === 0) return 0;
    const keys = context.keys.inbox(inbox);
    return Number(
      await context.call('discardDeadLetters', inbox, () => context.client.call('XDEL', keys.dead, ...entries)),
    );
  }

  /**
   * The dead-letter stream entry ids of these message ids, oldest first, at most `limit`. The
   * envelope sits inside each entry as JSON, so this pages through the stream (capped at
   * `deadLetterMaxLength`) on the client rather than decoding every entry inside one script,
   * which would block Redis: finding one id among 10,000 dead letters took 135-235 ms (median of
   * 5) on a loaded 2-core machine, an operator's click, while every other client kept going.
   */
  async #entries(inbox: string, ids: readonly string[], limit: number): Promise<string[]> {
    const found: string[] = [];
    if (ids.length === 0) return found;
    const context = this.#context;
    const wanted = new Set(ids);
    const keys = context.keys.inbox(inbox);
    let start = '-';
    while (found.length < limit) {
      const page = (await context.call('deadLetters', inbox, () =>
        context.client.call('XRANGE', keys.dead, start, '+', 'COUNT', DEAD_LETTER_PAGE),
      )) as Array<[string, string[]]>;
      for (const [id, fields] of page) {
        if (found.length < limit && wanted.has(toDeadLetter(inbox, id, fields).envelope.id)) found.push(id);
      }
      if (page.length < DEAD_LETTER_PAGE) break;
      start = `(${page[page.length - 1]![0]}`;
    }
    return found;
  }
}
