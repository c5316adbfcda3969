/// <reference lib="dom" />
import { apiUrl, authHeaders, errorOf } from './api.js';
import { readSse } from './sse.js';
import { onTokenChange } from './token.js';

/** One event of the server's stream: `name` is the AgentrixEventMap key, `data` its payload. */
export interface LiveEvent {
  id: number;
  name: string;
  data: any;
  /** When the console received it (epoch ms). */
  receivedAt: number;
}

export type LiveStatus = 'connecting' | 'live' | 'offline' | 'unauthorized';

type Listener = (event: LiveEvent) => void;

/** Names the server sends about the stream itself (not AgentrixEvents). */
const RESET = 'agentrix.reset';
const CUT = 'agentrix.cut';
const KEEP = 200;

/**
 * The console's one subscription to `GET api/events`: reconnects after the server's `retry`
 * delay with `Last-Event-ID`, so a dropped connection or a cut slow subscriber resumes where it
 * stopped; a `reset` (events lost beyond the server's buffer) tells the pages to reload.
 */
class LiveEvents {
  status: LiveStatus = 'offline';
  /** The last {@link KEEP} events, newest last. */
  readonly recent: LiveEvent[] = [];
  #listeners = new Set<Listener>();
  #statusListeners = new Set<() => void>();
  #resetListeners = new Set<() => void>();
  #lastEventId: string | undefined;
  #retryMs = 1000;
  #controller: AbortController | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    onTokenChange(() => {
      if (this.status === 'unauthorized') this.start();
    });
  }

  start(): void {
    this.stop();
    const controller = new AbortController();
    this.#controller = controller;
    void this.#run(controller.signal);
  }

  stop(): void {
    this.#controller?.abort();
    this.#controller = undefined;
    clearTimeout(this.#timer);
  }

  /** Every event; returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onStatus(listener: () => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  /** Called when events were missed (reset) or the stream came back after an outage: reload state. */
  onReset(listener: () => void): () => void {
    this.#resetListeners.add(listener);
    return () => this.#resetListeners.delete(listener);
  }

  async #run(signal: AbortSignal): Promise<void> {
    let reconnect = true;
    let wasOffline = this.status === 'offline' && this.#lastEventId !== undefined;
    this.#setStatus('connecting');
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() };
      if (this.#lastEventId !== undefined) headers['last-event-id'] = this.#lastEventId;
      const response = await fetch(apiUrl('api/events'), { headers, signal });
      if (!response.ok || !response.body) {
        const error = await errorOf(response);
        if (error.status === 401 || error.status === 403) {
          reconnect = false;
          this.#setStatus('unauthorized');
        }
        return;
      }
      this.#setStatus('live');
      if (wasOffline) this.#emitReset();
      wasOffline = false;
      for await (const message of readSse(response.body)) {
        if (message.retry !== undefined) this.#retryMs = message.retry;
        if (message.event === RESET) this.#emitReset();
        if (message.id !== undefined) this.#lastEventId = message.id;
        if (message.event === RESET || message.event === CUT || message.data === '') continue;
        this.#dispatch({
          id: Number(message.id),
          name: message.event,
          data: JSON.parse(message.data),
          receivedAt: Date.now(),
        });
      }
    } catch {
      // aborted, or the connection dropped: reconnect below unless stopped
    } finally {
      if (!signal.aborted && reconnect) {
        this.#setStatus('offline');
        this.#timer = setTimeout(() => {
          if (!signal.aborted) void this.#run(signal);
        }, this.#retryMs);
      }
    }
  }

  #dispatch(event: LiveEvent): void {
    this.recent.push(event);
    if (this.recent.length > KEEP) this.recent.shift();
    for (const listener of this.#listeners) listener(event);
  }

  #emitReset(): void {
    for (const listener of this.#resetListeners) listener();
  }

  #setStatus(status: LiveStatus): void {
    if (this.status === status) return;
    this.status = status;
    for (const listener of this.#statusListeners) listener();
  }
}

export const liveEvents = new LiveEvents();
