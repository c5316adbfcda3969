// Request/reply over the bus: a manager's asks, its reply inbox and the one loop reading it.
import {
  type AgentRegistryEntry,
  AgentrixError,
  type AgentrixEvents,
  backoffDelay,
  type Clock,
  type Delivery,
  type IdGenerator,
  type Logger,
  type MessageBus,
  type MessageEnvelope,
  REPLY_INBOX_PREFIX,
  type SendInput,
  type SerializedError,
  serializeError,
  sleep,
} from '@agentrix/core';
import { AgentRuntime } from './agent-runtime.js';
import type { AgentRequest, ReplyInput } from './agent-runtime-dependencies.js';
import type { Deadlines } from './deadlines.js';
import { PendingAsk } from './pending-ask.js';
import { recordedPause } from './turn-failure.js';

export interface RequestReplyParts {
  bus: MessageBus;
  clock: Clock;
  events: AgentrixEvents;
  generateId: IdGenerator;
  logger: Logger;
  /** The manager's consumer name: its reply inbox is named after it. */
  consumer: string;
  deadlines: Deadlines;
}

/**
 * The host's asks and agents' delegated asks: a request goes out with `replyTo` this manager's
 * reply inbox, and the reply (or error reply) is matched to it by `inReplyTo` by one reader loop.
 */
export class RequestReply {
  /** Where replies to this manager's asks arrive (one inbox per manager, read by one loop). */
  readonly inbox: string;
  readonly #bus: MessageBus;
  readonly #clock: Clock;
  readonly #events: AgentrixEvents;
  readonly #generateId: IdGenerator;
  readonly #logger: Logger;
  readonly #consumer: string;
  readonly #deadlines: Deadlines;
  readonly #asks = new Map<string, PendingAsk>();
  readonly #reading = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(parts: RequestReplyParts) {
    this.#bus = parts.bus;
    this.#clock = parts.clock;
    this.#events = parts.events;
    this.#generateId = parts.generateId;
    this.#logger = parts.logger;
    this.#consumer = parts.consumer;
    this.#deadlines = parts.deadlines;
    this.inbox = `${REPLY_INBOX_PREFIX}${parts.consumer}`;
  }

  /** Sends a request to an agent that can answer it and returns the wait for its reply. */
  send(request: AgentRequest, target: AgentRuntime | AgentRegistryEntry): Promise<MessageEnvelope> {
    try {
      refuseUnanswerable(target);
    } catch (error) {
      return Promise.reject(error);
    }
    const id = this.#generateId();
    this.#loop ??= this.#readReplies();
    const message: SendInput = {
      id,
      from: request.from,
      to: request.to,
      replyTo: this.inbox,
      content: request.content,
    };
    if (request.threadId !== undefined) message.threadId = request.threadId;
    if (request.data !== undefined) message.data = request.data;
    if (request.correlationId !== undefined) message.correlationId = request.correlationId;
    if (request.via !== undefined) message.via = request.via;
    if (request.scope !== undefined) message.scope = request.scope;
    // `sendNow`: an in-process bus sends at once, with no promise to watch (2% of an ask,
    // bench/runtime section 4, seventh pass).
    let sent: MessageEnvelope | Promise<MessageEnvelope>;
    try {
      sent = this.#bus.sendNow(message);
    } catch (error) {
      sent = Promise.reject(error); // a bus that throws instead
    }
    // The wait starts now: no reply can come before this function returns (a reply needs the
    // agent's turn, at the earliest in a later microtask). Sent at once, the envelope's time
    // starts the deadline (the id is new, so it is this message's: a clock read less an ask).
    const answer = this.#awaitReply(id, request, sent instanceof Promise ? undefined : sent.createdAt);
    // The answer settles the ask, whatever the send does meanwhile (an outage may hold it); a
    // send that fails settles it with its error.
    if (sent instanceof Promise) sent.catch((error: unknown) => this.#asks.get(id)?.settle(error, undefined));
    return answer;
  }

  /**
   * Sends an agent's reply (or error reply). One to an ask of this manager is handed to the ask
   * in process: through the bus it would only come back here (one bus round trip, a fifth of a
   * local ask: bench/runtime section 4). An ask that no longer waits drops it, as its reply
   * inbox would. It is still announced as `message.sent`. Returns nothing then (the turn has no
   * send to wait for: an `await` less per ask), else the bus's send. `now`: a clock reading of
   * the caller's, the reply's `createdAt` in process (else read here).
   */
  reply(input: ReplyInput, now?: number): Promise<unknown> | undefined {
    if (input.to !== this.inbox) return this.#bus.send(input);
    // The runtime builds each reply afresh: it becomes the envelope itself (a copy was 3% of an ask).
    const envelope = input as MessageEnvelope;
    envelope.createdAt = now ?? this.#clock.now();
    if (this.#events.has('message.sent')) this.#events.emit('message.sent', { envelope });
    const pending = this.#asks.get(input.inReplyTo);
    if (pending !== undefined) {
      if (envelope.type === 'error') pending.settle(errorFromReply(envelope, pending.to), undefined);
      else pending.settle(undefined, envelope);
    }
    return undefined;
  }

  /**
   * Settles every waiting ask with CLOSED and stops reading; resolves once the reader loop has
   * ended and the reply inbox is deleted (at once when no ask was ever made).
   */
  close(): Promise<void> {
    this.#reading.abort();
    const closed = new AgentrixError('CLOSED', 'The agent manager closed while waiting for a reply');
    for (const waiting of [...this.#asks.values()]) waiting.settle(closed, undefined);
    if (this.#loop === undefined) return Promise.resolve();
    return this.#loop.then(() => this.#bus.deleteInbox(this.inbox)).catch(() => {});
  }

  /**
   * A pending ask: settled by its reply, its deadline (whatever the bus does: the timer is ours),
   * its signal, or the manager's close. Its deadline is awaited, so it keeps the process alive.
   */
  #awaitReply(id: string, request: AgentRequest, now: number | undefined): Promise<MessageEnvelope> {
    return new Promise<MessageEnvelope>((resolve, reject) => {
      const pending = new PendingAsk(id, request, this.#asks, this.#deadlines, resolve, reject);
      this.#asks.set(id, pending);
      pending.watch(now);
    });
  }

  /** The one loop reading this manager's reply inbox; runs from the first ask until close. */
  async #readReplies(): Promise<void> {
    const inbox = this.inbox;
    const signal = this.#reading.signal;
    let failures = 0;
    while (!signal.aborted) {
      let deliveries: Delivery[];
      try {
        deliveries = await this.#bus.read(inbox, { consumer: this.#consumer, max: 64, signal });
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        failures++;
        const delayMs = backoffDelay(failures, { baseDelayMs: 100, maxDelayMs: 5_000 });
        this.#logger.warn(
          { inbox, attempt: failures, delayMs, error: serializeError(error) },
          'reply inbox unreadable; retrying',
        );
        await sleep(delayMs, { clock: this.#clock, signal, background: true }).catch(() => {});
        continue;
      }
      for (const { envelope } of deliveries) {
        const pending = envelope.inReplyTo === undefined ? undefined : this.#asks.get(envelope.inReplyTo);
        if (pending === undefined) continue; // the ask timed out or was aborted: nobody waits
        if (envelope.type === 'error') pending.settle(errorFromReply(envelope, pending.to), undefined);
        else pending.settle(undefined, envelope);
      }
      // Not awaited: the next read need not wait for the ack (a reply is settled once either way).
      if (deliveries.length > 0) {
        this.#bus
          .ack(
            inbox,
            deliveries.map((delivery) => delivery.deliveryId),
          )
          .catch((error: unknown) => this.#logger.warn({ inbox, error: serializeError(error) }, 'replies not acked'));
      }
    }
  }
}

/** An agent that cannot answer: the asker learns why at once instead of waiting for its timeout. */
function refuseUnanswerable(target: AgentRuntime | AgentRegistryEntry): void {
  const local = target instanceof AgentRuntime;
  const id = local ? target.id : target.spec.id;
  const { state, lastError: last } = target;
  if (state === 'error') {
    throw new AgentrixError(
      'AGENT_FAILED',
      `Agent "${id}" stopped on an error${last ? ` (${last.code ?? last.name}: ${last.message})` : ''} and takes no work until resume()`,
      { agentId: id, details: last ? { lastError: last } : {} },
    );
  }
  if (state !== 'paused') return;
  // A remote agent's pause is known by the error it was recorded with.
  const pause = local ? target.pauseReason : recordedPause(last);
  if (pause?.kind === 'host') {
    throw new AgentrixError('AGENT_PAUSED', `Agent "${id}" is paused; resume() it to ask it anything`, {
      agentId: id,
    });
  }
  if (pause?.kind === 'budget') {
    throw new AgentrixError(
      'BUDGET_EXCEEDED',
      `Agent "${id}" is paused because its budget is spent${pause.error ? ` (${pause.error.message})` : ''}; it tries again by itself${pause.resumesAt !== undefined ? ` at ${new Date(pause.resumesAt).toISOString()}` : ''}`,
      {
        agentId: id,
        retryable: false,
        details: { ...(pause.error ? { error: pause.error } : {}), resumesAt: pause.resumesAt },
      },
    );
  }
}

/** The error an `error` reply carries, as the asker's AgentrixError (its code kept). */
function errorFromReply(envelope: MessageEnvelope, agentId: string): AgentrixError {
  const error = (envelope.data as { error?: SerializedError } | undefined)?.error;
  return new AgentrixError(
    (error?.code ?? 'INTERNAL') as AgentrixError['code'],
    `Agent "${agentId}" failed to answer: ${error?.message ?? envelope.content}`,
    { agentId, ...(error?.retryable !== undefined ? { retryable: error.retryable } : {}), details: { error } },
  );
}
