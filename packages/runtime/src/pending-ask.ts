// One ask waiting for its reply, settled by the reply, its deadline, its signal or the close.
import { AgentrixError, abortError, type MessageEnvelope } from '@agentrix/core';
import type { AgentRequest } from './agent-runtime-dependencies.js';
import type { Deadline, Deadlines } from './deadlines.js';

/**
 * An ask waiting for its reply: one object (no closures but its deadline's and, with a signal,
 * its abort listener), removed from `asks` when settled. Settled, it lets go of its promise's
 * functions: a Map keeps a deleted entry's value in the table it replaces when it rehashes, and
 * that table, promoted, held the whole finished ask (its promise, the asker's frame) through the
 * next young collections into the old generation (bench/runtime section 4, `--trace-gc-nvp`).
 */
export class PendingAsk {
  readonly to: string;
  readonly #id: string;
  readonly #asks: Map<string, PendingAsk>;
  readonly #deadlines: Deadlines;
  #resolve: ((reply: MessageEnvelope) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #timeoutMs: number;
  #deadline: Deadline | undefined;
  #onAbort: (() => void) | undefined;

  constructor(
    id: string,
    request: AgentRequest,
    asks: Map<string, PendingAsk>,
    deadlines: Deadlines,
    resolve: (reply: MessageEnvelope) => void,
    reject: (error: unknown) => void,
  ) {
    this.to = request.to;
    this.#id = id;
    this.#asks = asks;
    this.#deadlines = deadlines;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = request.signal;
    this.#timeoutMs = request.timeoutMs;
  }

  /** Starts the deadline (from `now`, a clock reading of the caller's, when given) and follows the signal. */
  watch(now?: number): void {
    const to = this.to;
    this.#deadline = this.#deadlines.add(
      this.#timeoutMs,
      () =>
        this.settle(
          new AgentrixError('TIMEOUT', `Agent "${to}" did not reply within ${this.#timeoutMs} ms`, { agentId: to }),
          undefined,
        ),
      now, // undefined: read by Deadlines
    );
    const signal = this.#signal;
    if (signal === undefined) return;
    this.#onAbort = () => this.settle(abortError(signal, `ask to "${to}"`), undefined);
    if (signal.aborted) this.#onAbort();
    else signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  settle(error: unknown, reply: MessageEnvelope | undefined): void {
    if (!this.#asks.delete(this.#id)) return;
    if (this.#deadline !== undefined) this.#deadlines.cancel(this.#deadline);
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener('abort', this.#onAbort);
    const resolve = this.#resolve!;
    const reject = this.#reject!;
    this.#resolve = this.#reject = this.#deadline = this.#onAbort = undefined;
    if (reply !== undefined) resolve(reply);
    else reject(error);
  }
}
