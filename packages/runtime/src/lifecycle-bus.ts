import type { Delivery, MessageBus, ReadOptions } from '@agentrix/core';
import { abortError, isReplyInbox } from '@agentrix/core';
import { ForwardingBus } from '@agentrix/core/implement';

/**
 * The bus as `createAgentrix` hands it to the manager: the host's bus, plus what a process needs
 * to stop and start well.
 *
 * - `drain()` stops new work: reads wait (until their signal fires) instead of taking messages. A
 *   read already waiting in the bus when it drains may still take one message: its turn runs
 *   within the shutdown's deadline or is given back with the others.
 * - `releaseHeld()` gives back, at once, everything this process's consumers still hold in the
 *   inboxes they read (`releaseConsumer`), so another process takes it now rather than after the
 *   lease.
 * - With `reclaim`, the first read of each inbox first releases what the same consumer name held
 *   before (a restarted process with a stable name takes its own deliveries back at once).
 *
 * Closing it closes nothing: the inner bus (`inner`: the host's, the store's, a Redis bus, traced
 * when there is telemetry) has its owner.
 */
export class LifecycleBus extends ForwardingBus {
  readonly #reclaim: boolean;
  /** The last consumer that read each inbox (almost always the only one). */
  readonly #readers = new Map<string, string>();
  /**
   * Every consumer that read each inbox: what `releaseHeld` gives back. One name as it is, a set
   * only from the second (a set per inbox was 150 bytes of every idle agent, bench/runtime section 3).
   */
  readonly #held = new Map<string, string | Set<string>>();
  #draining = false;

  constructor(inner: MessageBus, options: { reclaim: boolean }) {
    super(inner);
    this.#reclaim = options.reclaim;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Stops handing out messages (see the class comment). Idempotent. */
  drain(): void {
    this.#draining = true;
  }

  override read(inbox: string, options: ReadOptions = {}): Promise<Delivery[]> {
    const consumer = options.consumer;
    // One map read per read, no allocation: a read is on every message's path (bench/runtime section 5).
    if (consumer !== undefined && this.#readers.get(inbox) !== consumer)
      return this.#firstRead(inbox, consumer, options);
    // Reply inboxes (`host:<consumer>`) keep being read: a draining turn may wait for an answer.
    if (this.#draining && !isReplyInbox(inbox)) return this.#idle(options);
    return this.inner.read(inbox, options);
  }

  /**
   * Remembers who reads the inbox (for `releaseHeld`) and, with `reclaim`, first releases what that
   * name held. Not `async`: without a reclaim the read is the inner bus's own promise (an idle
   * agent's first read kept an async frame and its promise alive, bench/runtime section 3).
   */
  #firstRead(inbox: string, consumer: string, options: ReadOptions): Promise<Delivery[]> {
    this.#readers.set(inbox, consumer);
    const held = this.#held.get(inbox);
    if (held === consumer || (typeof held === 'object' && held.has(consumer))) return this.read(inbox, options);
    if (held === undefined) this.#held.set(inbox, consumer);
    else if (typeof held === 'string') this.#held.set(inbox, new Set([held, consumer]));
    else held.add(consumer);
    if (!this.#reclaim) return this.read(inbox, options);
    // Once per (inbox, consumer), before its first read: later it would take back what it holds now.
    // A failure to release is not a failure to read: the lease brings them back anyway.
    let releasing: Promise<unknown>;
    try {
      releasing = this.inner.releaseConsumer(inbox, consumer).catch(() => 0);
    } catch {
      releasing = Promise.resolve();
    }
    return releasing.then(() => this.read(inbox, options));
  }

  /** A read while draining: nothing, when the reader stops waiting (or at once for `blockMs: 0`). */
  #idle({ signal, blockMs }: ReadOptions): Promise<Delivery[]> {
    if (blockMs === 0) return Promise.resolve([]);
    return new Promise((_resolve, reject) => {
      if (signal === undefined) return; // never ends: its reader has no way to stop reading
      if (signal.aborted) return reject(abortError(signal, 'read'));
      signal.addEventListener('abort', () => reject(abortError(signal, 'read')), { once: true });
    });
  }

  /** Releases every delivery the consumers that read through it hold. Returns how many. */
  async releaseHeld(): Promise<number> {
    const releases: Promise<number>[] = [];
    for (const [inbox, held] of this.#held) {
      for (const consumer of typeof held === 'string' ? [held] : held)
        releases.push(this.inner.releaseConsumer(inbox, consumer).catch(() => 0));
    }
    const counts = await Promise.all(releases);
    return counts.reduce((sum, count) => sum + count, 0);
  }

  override deleteInbox(inbox: string): Promise<void> {
    this.#readers.delete(inbox);
    this.#held.delete(inbox);
    return this.inner.deleteInbox(inbox);
  }
}
