import { AgentrixError, abortError } from '@agentrix/core';

export interface AgentPoolOptions {
  /** Turns that may run at once across every agent sharing this pool. Default: unlimited. */
  maxConcurrentTurns?: number;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  cancelled: boolean;
}

/**
 * A cap on concurrent turns shared by many agents (e.g. 1,000 agents, 16 model slots).
 * Waiters are served first come, first served; since an agent waits for at most one slot
 * at a time, no agent can starve another.
 */
export class AgentPool {
  readonly maxConcurrentTurns: number;
  #active = 0;
  #queue: (Waiter | undefined)[] = [];
  #head = 0;

  constructor(options: AgentPoolOptions = {}) {
    const max = options.maxConcurrentTurns ?? Number.POSITIVE_INFINITY;
    if (!(max >= 1)) {
      throw new AgentrixError('INVALID_ARGUMENT', `Invalid maxConcurrentTurns ${max}: expected a number >= 1`);
    }
    this.maxConcurrentTurns = max;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    let count = 0;
    for (let i = this.#head; i < this.#queue.length; i++) if (!this.#queue[i]?.cancelled) count++;
    return count;
  }

  /** Takes a slot, waiting in line when all are busy. Pair every successful acquire with `release`. */
  acquire(signal?: AbortSignal): Promise<void> | undefined {
    if (this.#active < this.maxConcurrentTurns) {
      this.#active++;
      return undefined;
    }
    if (signal?.aborted) return Promise.reject(abortError(signal, 'wait for a pool slot'));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined, cancelled: false };
      this.#queue.push(waiter);
      if (signal) {
        waiter.onAbort = () => {
          waiter.cancelled = true;
          reject(abortError(signal, 'wait for a pool slot'));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
    });
  }

  release(): void {
    while (this.#head < this.#queue.length) {
      const waiter = this.#queue[this.#head];
      this.#queue[this.#head++] = undefined;
      if (!waiter || waiter.cancelled) continue;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      this.#compact();
      waiter.resolve();
      return;
    }
    this.#compact();
    this.#active--;
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}
