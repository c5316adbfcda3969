import { getEventListeners } from 'node:events';
import { abortError } from '@agentrix/core';
import { untilAborted } from '@agentrix/core/implement';

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
  /**
   * The aborts of the races waiting on this turn. An array (a race settles by swapping its own out):
   * a Set's add and delete reallocated its table on every race (bench/runtime section 4, allocation profile).
   */
  readonly #waiting: (() => void)[] = [];
  /** Set by {@link abort}: reading an AbortSignal's `aborted` costs a validation call each time. */
  #aborted = false;

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
    return this.#controller === undefined ? this.signal.aborted : this.#aborted;
  }

  get reason(): unknown {
    return this.signal.reason;
  }

  abort(reason: unknown): void {
    if (this.#controller === undefined || this.#aborted) return;
    this.#aborted = true;
    this.#controller.abort(reason);
    const waiting = this.#waiting.splice(0);
    for (const onAbort of waiting) onAbort();
  }

  /**
   * Whether this turn's signal may serve the next turn of the agent: creating an AbortSignal costs
   * about 3 µs (more than the rest of a 2-step turn), and most turns end with nothing listening to
   * theirs. Not if it aborted, if a race still waits on it, or if the turn left a listener on its
   * signal (the `openai` client, for one, never removes its own).
   */
  reusable(): boolean {
    return (
      this.#controller !== undefined &&
      !this.#aborted &&
      this.#waiting.length === 0 &&
      getEventListeners(this.signal, 'abort').length === 0
    );
  }

  throwIfAborted(what: string): void {
    if (this.aborted) throw abortError(this.signal, what);
  }

  /**
   * Settles like `promise`, unless the turn is aborted first: then it rejects at once with the
   * abort (see `untilAborted`), and `promise` is detached (its late result ignored).
   */
  race<T>(promise: PromiseLike<T>, what: string): Promise<T> {
    if (this.#controller === undefined) {
      return this.signal === neverAborted ? Promise.resolve(promise) : untilAborted(promise, this.signal, what);
    }
    if (this.#aborted) {
      Promise.resolve(promise).catch(() => {});
      return Promise.reject(abortError(this.signal, what));
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        Promise.resolve(promise).catch(() => {});
        reject(abortError(this.signal, what));
      };
      this.#waiting.push(onAbort);
      Promise.resolve(promise).then(
        (value) => {
          this.#stopWaiting(onAbort);
          resolve(value);
        },
        (error: unknown) => {
          this.#stopWaiting(onAbort);
          reject(error);
        },
      );
    });
  }

  #stopWaiting(onAbort: () => void): void {
    const waiting = this.#waiting;
    const index = waiting.indexOf(onAbort);
    if (index === -1) return;
    const last = waiting.pop()!;
    if (index < waiting.length) waiting[index] = last;
  }
}
