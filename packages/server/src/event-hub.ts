import type { AgentrixEvents } from '@agentrix/core';
import { agentsOf, type EventFilter, matchesFilter } from './event-filter.js';
import type { LiveEvent } from './live-event.js';
import { SseSubscriber } from './sse-subscriber.js';

export interface EventHubOptions {
  bufferSize: number;
  maxQueuedEvents: number;
  heartbeatMs: number;
  secrets: readonly string[];
}

const encoder = new TextEncoder();

/**
 * The live event stream of one server: taps the agentrix's `AgentrixEvents` (every name, those of
 * packages the server does not know included), numbers each event, keeps the last `bufferSize` in
 * a ring for `Last-Event-ID` resumes, and fans them out to SSE subscribers. Each subscriber holds
 * at most `maxQueuedEvents` not yet taken by its socket; past that it is cut (see SseSubscriber),
 * so a slow client costs bounded memory and never slows the emitter.
 */
export class EventHub {
  readonly #ring: (LiveEvent | undefined)[];
  readonly #options: EventHubOptions;
  readonly #subscribers = new Set<SseSubscriber>();
  readonly #untap: () => void;
  readonly #heartbeat: ReturnType<typeof setInterval>;
  readonly #listeners = new Set<(event: LiveEvent) => void>();
  #nextId = 1;
  #cuts = 0;
  #closed = false;

  constructor(events: AgentrixEvents, options: EventHubOptions) {
    this.#options = options;
    this.#ring = new Array(options.bufferSize);
    this.#untap = events.tap((name, data) => this.publish(name, data));
    // Background: a keep-alive comment for idle streams must not keep the process alive.
    this.#heartbeat = setInterval(() => {
      for (const subscriber of this.#subscribers) subscriber.ping();
    }, options.heartbeatMs);
    this.#heartbeat.unref();
  }

  get lastId(): number {
    return this.#nextId - 1;
  }

  /** The ids kept, the streams open, and how many were cut as too slow since the start. */
  stats(): { lastId: number; oldestId: number; subscribers: number; cut: number } {
    return { lastId: this.lastId, oldestId: this.oldestId, subscribers: this.#subscribers.size, cut: this.#cuts };
  }

  /** Numbers, keeps and fans out one event. Never throws into the emitter. */
  publish(name: string, data: unknown): void {
    if (this.#closed) return;
    let json: string;
    try {
      json = JSON.stringify(data) ?? 'null';
    } catch {
      json = '{"unserializable":true}';
    }
    for (const secret of this.#options.secrets) {
      if (secret && json.includes(secret)) json = json.replaceAll(secret, '[REDACTED]');
    }
    const event: LiveEvent = { id: this.#nextId++, name, at: Date.now(), agents: agentsOf(data), json };
    this.#ring[event.id % this.#ring.length] = event;
    for (const subscriber of this.#subscribers) subscriber.offer(event);
    for (const listener of this.#listeners) listener(event);
  }

  /** Calls `listener` with every event published from now on; returns the function that stops it. */
  listen(listener: (event: LiveEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The kept events after `afterId` that match, oldest first (at most `limit`, the newest ones). */
  since(afterId: number, filter: EventFilter, limit = this.#ring.length): LiveEvent[] {
    const oldest = Math.max(afterId + 1, this.#nextId - this.#ring.length);
    const out: LiveEvent[] = [];
    for (let id = this.#nextId - 1; id >= oldest && out.length < limit; id--) {
      const event = this.#ring[id % this.#ring.length];
      if (event && event.id === id && matchesFilter(filter, event.name, event.agents)) out.push(event);
    }
    return out.reverse();
  }

  /** The oldest id still kept. */
  get oldestId(): number {
    return Math.max(1, this.#nextId - this.#ring.length);
  }

  /**
   * A new SSE stream: `retry`, then (with `lastEventId`) the kept events after it or an
   * `agentrix.reset` when it is older than the ring (or newer than anything sent: another
   * server run), then live events.
   */
  subscribe(filter: EventFilter, lastEventId: number | undefined, signal?: AbortSignal): ReadableStream<Uint8Array> {
    const subscriber = new SseSubscriber({
      filter,
      maxQueued: this.#options.maxQueuedEvents,
      onClose: () => this.#subscribers.delete(subscriber),
      onCut: () => this.#cuts++,
    });
    let preamble = 'retry: 1000\n\n';
    let replay: LiveEvent[] = [];
    if (lastEventId !== undefined) {
      if (lastEventId < this.oldestId - 1 || lastEventId > this.lastId) {
        preamble += `event: agentrix.reset\ndata: ${JSON.stringify({ lastEventId, oldestId: this.oldestId })}\n\n`;
        replay = this.since(0, filter);
      } else {
        replay = this.since(lastEventId, filter);
      }
    }
    if (this.#closed) {
      subscriber.close();
    } else {
      this.#subscribers.add(subscriber);
      signal?.addEventListener('abort', () => subscriber.close(), { once: true });
    }
    return subscriber.open(encoder.encode(preamble), replay);
  }

  /** Ends every stream and stops listening to the agentrix. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#untap();
    clearInterval(this.#heartbeat);
    for (const subscriber of [...this.#subscribers]) subscriber.close();
    this.#listeners.clear();
  }
}
