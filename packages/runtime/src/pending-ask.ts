// One ask waiting for its reply, settled by the reply, its deadline, its signal or the close.
import { AgentrixError, abortError, type MessageEnvelope } from '@agentrix/core';
import type { AgentRequest } from './agent-runtime.js';
import type { Deadline, Deadlines } from './deadlines.js';

/**
 * An ask waiting for its reply: one object (no closures but its deadline's and, with a signal,
 * its abort listener), removed from `asks` when settled.
 */
export class PendingAsk {
  readonly to: string;
  readonly #id: string;
  readonly #asks: Map<string, PendingAsk>;
  readonly #deadlines: Deadlines;
  readonly #resolve: (reply: MessageEnvelope) => void;
  readonly #reject: (error: unknown) => void;
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

  /** Starts the deadline and follows the signal. */
  watch(): void {
    const to = this.to;
    this.#deadline = this.#deadlines.add(this.#timeoutMs, () =>
      this.settle(
        new AgentrixError('TIMEOUT', `Agent "${to}" did not reply within ${this.#timeoutMs} ms`, { agentId: to }),
        undefined,
      ),
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
    if (reply !== undefined) this.#resolve(reply);
    else this.#reject(error);
  }
}
