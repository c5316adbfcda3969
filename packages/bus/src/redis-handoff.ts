import type { Delivery } from '@agentrix/core';
import { settleWaiter } from './implement/blocked-reads.js';
import type { RedisBusContext } from './redis-bus-context.js';
import { withDeadline } from './redis-client.js';
import type { RedisDeadLetters } from './redis-dead-letters.js';
import { NO_ENVELOPE_ERROR, NOT_AN_ENVELOPE_ERROR, parseEnvelope } from './redis-entries.js';
import type { RedisLeaseManager } from './redis-lease-manager.js';
import { disarmScript } from './redis-lease-scripts.js';
import { type Waiter, type WaitingInbox, waiterOf } from './redis-waiting-inbox.js';

/** `h`: a wake-up that carries a message handed off to a blocked reader. */
const HANDOFF_MARK = 104;

/** What the hand-offs need of the blocked reads they feed. */
export interface HandoffReaders {
  pump(box: WaitingInbox): void;
  removeWaiter(box: WaitingInbox, waiter: Waiter): boolean;
  /** Keeps deliveries for the box's reader loop until its next read. */
  hold(box: WaitingInbox, deliveries: Delivery[]): void;
}

/** True for a wake-up message that may carry a hand-off. */
export function isHandoff(message: string): boolean {
  return message.charCodeAt(0) === HANDOFF_MARK;
}

/**
 * Hand-offs: a read that drains an inbox arms it for its consumer, and the next send puts its
 * message in the wake-up itself (`h<token>\n<consumer>\n<entry id>\n<envelope>`), so the woken
 * reader needs no read round trip. A reader that left is disarmed; a message handed to nobody is
 * given back.
 */
export class RedisHandoffs {
  readonly #context: RedisBusContext;
  readonly #leases: RedisLeaseManager;
  readonly #deadLetters: RedisDeadLetters;
  readonly #readers: HandoffReaders;

  constructor(
    context: RedisBusContext,
    leases: RedisLeaseManager,
    deadLetters: RedisDeadLetters,
    readers: HandoffReaders,
  ) {
    this.#context = context;
    this.#leases = leases;
    this.#deadLetters = deadLetters;
    this.#readers = readers;
  }

  /**
   * A wake-up carrying a message (see the send script). Returns false when it is not for this bus
   * (then it is a plain wake-up). A message handed to a reader that is gone is given back.
   */
  take(inbox: string, box: WaitingInbox | undefined, message: string): boolean {
    const context = this.#context;
    const tokenEnd = message.indexOf('\n');
    if (tokenEnd !== context.token.length + 1 || !message.startsWith(context.token, 1)) return false;
    const consumerEnd = message.indexOf('\n', tokenEnd + 1);
    const idEnd = consumerEnd < 0 ? -1 : message.indexOf('\n', consumerEnd + 1);
    if (idEnd < 0) return false;
    const consumer = message.slice(tokenEnd + 1, consumerEnd);
    const deliveryId = message.slice(consumerEnd + 1, idEnd);
    const json = message.slice(idEnd + 1);
    const keys = box?.keys ?? context.keys.inbox(inbox);
    const envelope = parseEnvelope(json);
    if (envelope === undefined) {
      this.#deadLetterMalformed(inbox, box, deliveryId, json);
      return true;
    }
    const delivery: Delivery = { deliveryId, envelope, attempt: 1 };
    if (box !== undefined) box.handedOff = true;
    const waiter = context.closed || box === undefined ? undefined : waiterOf(box, consumer);
    if (box === undefined || waiter === undefined) {
      // Between two reads of the reader loop it was armed for: held for its next read.
      if (box !== undefined && !context.closed && box.lastConsumer === consumer) this.#readers.hold(box, [delivery]);
      else context.track(this.#leases.giveBack(keys, inbox, [delivery]));
      return true;
    }
    this.#readers.removeWaiter(box, waiter);
    settleWaiter(waiter, context.clock, [delivery]);
    if (box.waiters.length > 0) this.#readers.pump(box);
    return true;
  }

  /**
   * The last reader of an inbox armed for a hand-off went away (abort, timeout): the next send
   * must wake whoever else waits instead of handing its message to a reader that is gone.
   */
  async disarm(box: WaitingInbox): Promise<void> {
    const consumer = box.armedFor;
    box.armedFor = undefined;
    if (consumer === undefined) return;
    const context = this.#context;
    try {
      await withDeadline(
        disarmScript.run(context.client, [box.keys.armed], [`${context.token}\n${consumer}`]),
        context.commandTimeoutMs,
      );
    } catch (error) {
      // Not lost: a message handed to nobody is redelivered once its lease ends.
      context.logger.warn(
        { inbox: box.name, error: error instanceof Error ? error.message : String(error) },
        'RedisStreamsBus could not disarm an inbox',
      );
    }
  }

  /** Written by something else: dead letter, as a read would, then read on. */
  #deadLetterMalformed(inbox: string, box: WaitingInbox | undefined, deliveryId: string, json: string): void {
    const context = this.#context;
    const keys = box?.keys ?? context.keys.inbox(inbox);
    const error = json === '' ? NO_ENVELOPE_ERROR : NOT_AN_ENVELOPE_ERROR;
    context.track(
      this.#deadLetters.deadLetterMalformed(keys, inbox, [[deliveryId, 1, json, '']], error).then(
        () => box !== undefined && this.#readers.pump(box),
        (failure: unknown) => {
          context.logger.warn(
            { inbox, error: failure instanceof Error ? failure.message : String(failure) },
            'RedisStreamsBus could not dead-letter a malformed entry',
          );
          if (box !== undefined) this.#readers.pump(box);
        },
      ),
    );
  }
}
