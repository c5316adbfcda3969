// The loop that reads the agents' answers from the channel's bus inbox and hands each to the
// channel, in order per conversation, with retries by the bus and a cap on answers in flight.
import {
  AgentrixError,
  backoffDelay,
  type Clock,
  type Delivery,
  type Logger,
  type MessageEnvelope,
  serializeError,
  sleep,
} from '@agentrix/core';
import type { Agentrix } from '@agentrix/runtime';

/**
 * Answers delivered at once, to different conversations (one at a time per conversation, in
 * order): a chat waiting out a 429 or a backoff holds back no other chat, and a flood of
 * answers does not open a connection each.
 */
const MAX_DELIVERIES = 32;

export interface ReplyInboxOptions {
  bus: Agentrix['bus'];
  inbox: string;
  consumer: string;
  clock: Clock;
  logger: Logger;
  /** Kept out of what is logged. */
  secrets: string[];
  /** Ends the loop (the answers being delivered are waited for). */
  signal: AbortSignal;
  /** Delivers one answer; a throw has the bus deliver it again (`lastAttempt`: the bus will not). */
  answer(envelope: MessageEnvelope, lastAttempt: boolean): Promise<void>;
}

/** Reads the inbox until `signal` aborts (or the bus closes), then waits for the deliveries under way. */
export async function readReplies(options: ReplyInboxOptions): Promise<void> {
  const { bus, inbox, consumer, clock, logger, signal } = options;
  const delivering = new Set<Promise<void>>();
  /** The chain of each conversation: its answers in order. */
  const chains = new Map<string, Promise<void>>();
  let failures = 0;
  while (!signal.aborted) {
    if (delivering.size >= MAX_DELIVERIES) {
      await Promise.race(delivering);
      continue;
    }
    let deliveries: Delivery[];
    try {
      deliveries = await bus.read(inbox, { consumer, max: MAX_DELIVERIES - delivering.size, signal });
      failures = 0;
    } catch (error) {
      if (signal.aborted) break;
      if (AgentrixError.isInstance(error) && error.code === 'CLOSED') {
        logger.warn({}, 'telegram reply inbox closed: close the channel before the runtime');
        break;
      }
      failures++;
      const delayMs = backoffDelay(failures, { baseDelayMs: 100, maxDelayMs: 5_000 });
      logger.warn({ attempt: failures, delayMs, error: serializeError(error) }, 'telegram reply inbox unreadable');
      await sleep(delayMs, { clock, signal, background: true }).catch(() => {});
      continue;
    }
    // Each answer after the answers before it in its conversation; other conversations go on meanwhile.
    for (const delivery of deliveries) {
      const { envelope } = delivery;
      const key = envelope.threadId ?? envelope.inReplyTo ?? delivery.deliveryId;
      const next = (chains.get(key) ?? Promise.resolve()).then(() => deliver(options, delivery));
      chains.set(key, next);
      delivering.add(next);
      void next.finally(() => {
        delivering.delete(next);
        if (chains.get(key) === next) chains.delete(key);
      });
    }
  }
  await Promise.all(delivering);
}

/** Delivers one reply to its chat, then acks it; a failure is retried by the bus, then dead-lettered. */
async function deliver(options: ReplyInboxOptions, delivery: Delivery): Promise<void> {
  const { bus, inbox } = options;
  const { envelope } = delivery;
  try {
    await options.answer(envelope, delivery.attempt >= bus.maxDeliveries);
    await bus.ack(inbox, [delivery.deliveryId]);
  } catch (error) {
    options.logger.warn(
      {
        messageId: envelope.inReplyTo,
        attempt: delivery.attempt,
        error: serializeError(error, { secrets: options.secrets }),
      },
      'telegram answer not delivered; retrying',
    );
    const delayMs = backoffDelay(delivery.attempt, { baseDelayMs: 1000, maxDelayMs: 30_000 });
    await sleep(delayMs, { clock: options.clock, signal: options.signal }).catch(() => {});
    await bus.nack(inbox, delivery.deliveryId, { error }).catch(() => {});
  }
}
