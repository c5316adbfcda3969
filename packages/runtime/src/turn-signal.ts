import { getEventListeners } from 'node:events';
import { abortError, untilAborted } from '@agentrix/core';

const neverAborted = new AbortController().signal;

/**
 * The abort side of one turn: its deadline and a stop abort it, and everything the turn awaits is
 * raced against it ({@link race}), so the turn ends even when a model or tool ignores the signal.
 *
 * The runtime aborts it with {@link abort}; races wait on a list of their own, not on an
 * EventTarget listener each. A `runTurn` caller's signal is followed as it is.
 */
export class TurnSignal {
  readonly signal: AbortSignal;
  readonly #controller: AbortController | undefined;
  readonly #waiting = new Set<() => void>();

  private constructor(signal: AbortSignal, controller: AbortController | undefined) {
    this.signal = signal;
    this.#controller = controller;
  }

  /** A turn the runtime aborts itself (with {@link abort}). */
  static own(controller: AbortController): TurnSignal {
    return new TurnSignal(controller.signal, controller);
  }

  /** A turn bounded by a caller's signal (or by nothing). */
  static following(signal: AbortSignal | undefined): TurnSignal {
    return new TurnSignal(signal ?? neverAborted, undefined);
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  get reason(): unknown {
    return this.signal.reason;
  }

  abort(reason: unknown): void {
    if (this.#controller === undefined || this.signal.aborted) return;
    this.#controller.abort(reason);
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const onAbort of waiting) onAbort();
  }

  throwIfAborted(what: string): void {
    if (this.signal.aborted) throw abortError(this.signal, what);
  }

  /**
   * Settles like `promise`, unless the turn is aborted first: then it rejects at once with the
   * abort (see `untilAborted`), and `promise` is detached (its late result ignored).
   */
  race<T>(promise: PromiseLike<T>, what: string): Promise<T> {
    if (this.#controller === undefined) {
      return this.signal === neverAborted ? Promise.resolve(promise) : untilAborted(promise, this.signal, what);
    }
    if (this.signal.aborted) {
      Promise.resolve(promise).catch(() => {});
      return Promise.reject(abortError(this.signal, what));
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        Promise.resolve(promise).catch(() => {});
        reject(abortError(this.signal, what));
      };
      this.#waiting.add(onAbort);
      Promise.resolve(promise).then(
        (value) => {
          this.#waiting.delete(onAbort);
          resolve(value);
        },
        (error: unknown) => {
          this.#waiting.delete(onAbort);
          reject(error);
        },
      );
    });
  }
}

/**
 * Whether a turn's AbortController may serve the next turn: creating an AbortSignal costs about
 * 3 µs (more than the rest of a 2-step turn), and most turns end with nothing listening to
 * theirs. Not if it aborted, nor if the turn left a listener on it (the `openai` client, for one,
 * never removes its own): such a controller is dropped.
 */
export function reusable(controller: AbortController): boolean {
  return !controller.signal.aborted && getEventListeners(controller.signal, 'abort').length === 0;
}
