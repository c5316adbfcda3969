import { type EventFilter, matchesFilter } from './event-filter.js';
import { type LiveEvent, sseFrame } from './live-event.js';

const encoder = new TextEncoder();
const PING = encoder.encode(': ping\n\n');

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let size = 0;
  for (const chunk of chunks) size += chunk.byteLength;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * One SSE client. Events that match its filter are batched (one chunk per turn of the event
 * loop, so 10k events/s are a few hundred socket writes, not 10k) and handed to the stream only
 * when the stream wants more (its queue holds one chunk: `highWaterMark` 1). What the socket has
 * not taken waits in `pending`; when more than `maxQueued` events wait, the client is too slow:
 * it is cut. It gets `event: agentrix.cut` with the id of the last event it was given, and the
 * stream ends; EventSource reconnects with that id and resumes from the ring. So one client
 * holds at most about 2 x `maxQueued` frames whatever the rate, and never slows the emitter.
 */
export class SseSubscriber {
  readonly #filter: EventFilter;
  readonly #maxQueued: number;
  readonly #onClose: () => void;
  readonly #onCut: () => void;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #pending: Uint8Array[] = [];
  #pendingLastId = 0;
  #lastSentId = 0;
  #scheduled = false;
  #closed = false;

  constructor(options: { filter: EventFilter; maxQueued: number; onClose: () => void; onCut: () => void }) {
    this.#filter = options.filter;
    this.#maxQueued = options.maxQueued;
    this.#onClose = options.onClose;
    this.#onCut = options.onCut;
  }

  get closed(): boolean {
    return this.#closed;
  }

  open(preamble: Uint8Array, replay: readonly LiveEvent[]): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
          controller.enqueue(concat([preamble, ...replay.map(sseFrame)]));
          if (replay.length > 0) this.#lastSentId = replay[replay.length - 1]!.id;
          if (this.#closed) controller.close();
        },
        pull: () => this.#flush(),
        cancel: () => this.close(),
      },
      { highWaterMark: 1 },
    );
  }

  offer(event: LiveEvent): void {
    if (this.#closed || !matchesFilter(this.#filter, event.name, event.agents)) return;
    this.#pending.push(sseFrame(event));
    this.#pendingLastId = event.id;
    if (this.#pending.length > this.#maxQueued) {
      this.#cut();
      return;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#flush();
      });
    }
  }

  /** A keep-alive comment, when the stream is idle. */
  ping(): void {
    const controller = this.#controller;
    if (this.#closed || !controller || this.#pending.length > 0) return;
    if ((controller.desiredSize ?? 0) > 0) controller.enqueue(PING);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    try {
      this.#controller?.close();
    } catch {
      // already closed or cancelled by the client
    }
    this.#onClose();
  }

  #flush(): void {
    const controller = this.#controller;
    if (this.#closed || !controller || this.#pending.length === 0) return;
    if ((controller.desiredSize ?? 0) <= 0) return;
    // Take the batch before enqueueing: enqueue may call pull (and so this method) at once,
    // which would send the same batch twice.
    const batch = concat(this.#pending);
    this.#pending = [];
    this.#lastSentId = this.#pendingLastId;
    controller.enqueue(batch);
  }

  #cut(): void {
    this.#pending = [];
    const notice = { reason: 'slow-subscriber', lastEventId: this.#lastSentId, maxQueued: this.#maxQueued };
    try {
      this.#controller?.enqueue(encoder.encode(`event: agentrix.cut\ndata: ${JSON.stringify(notice)}\n\n`));
    } catch {
      // the client is gone
    }
    this.#onCut();
    this.close();
  }
}
