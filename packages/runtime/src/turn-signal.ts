import { getEventListeners } from 'node:events';
import { abortError } from '@agentrix/core';
import { untilAborted } from '@agentrix/core/implement';

const neverAborted = new AbortController().signal;
const ignore = () => {};

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
  /**
   * Model streams open in this turn: an abort closes them (see {@link closeOnAbort}). The step loop
   * has one open at a time, in a field: an array emptied at each stream's end gave back its
   * storage and took it again for the next (bench/runtime section 4, sixth pass).
   */
  #open: AsyncIterator<unknown> | undefined;
  #moreOpen: AsyncIterator<unknown>[] | undefined;
  /** Set by {@link abort}: reading an AbortSignal's `aborted` costs a validation call each time. */
  #aborted = false;
  /**
   * Whether anything added an abort listener to the signal since {@link reusable} last found none:
   * asking Node (`getEventListeners`) costs a lookup of its internal module per call, 1.5% of an
   * ask (bench/runtime section 4, seventh pass), and most turns add none.
   */
  #listened = false;
  /** A followed caller's signal: the listener that closes open streams, while one is open. */
  #onCallerAbort: (() => void) | undefined;
  /**
   * The first race waiting (a turn awaits one thing at a time): its settle functions sit in these
   * fields and the raced promise settles it through the two functions below, made once per signal
   * (signals are reused), instead of three closures per race (bench/runtime section 4, sixth pass).
   * An aborted signal is never reused nor raced again, so a late settlement finds no newer race here.
   */
  #slotResolve: ((value: unknown) => void) | undefined;
  #slotReject: ((error: unknown) => void) | undefined;
  #slotWhat = '';
  readonly #slotSettled = (value: unknown): void => {
    const resolve = this.#slotResolve;
    this.#slotResolve = this.#slotReject = undefined;
    resolve?.(value);
  };
  readonly #slotFailed = (error: unknown): void => {
    const reject = this.#slotReject;
    this.#slotResolve = this.#slotReject = undefined;
    reject?.(error);
  };

  /**
   * Aborts the turn with its deadline's reason: one function per signal, handed to `Deadlines` by
   * each turn the signal serves (a closure per turn was garbage of every ask, bench/runtime section 4).
   */
  readonly expire: () => void;

  private constructor(
    signal: AbortSignal,
    controller: AbortController | undefined,
    deadlineReason: (() => unknown) | undefined,
  ) {
    this.signal = signal;
    this.#controller = controller;
    if (controller !== undefined) {
      // The signal is the runtime's own: its listeners are added through this property (by a
      // model, a tool, `events.once`, `fetch`), so a flag tells whether any may be left.
      const add = signal.addEventListener;
      signal.addEventListener = (...args: Parameters<AbortSignal['addEventListener']>) => {
        this.#listened = true;
        add.apply(signal, args);
      };
    }
    this.expire =
      deadlineReason === undefined
        ? ignore
        : () => {
            if (!this.#aborted) this.abort(deadlineReason());
          };
  }

  /** A turn the runtime aborts itself (with {@link abort}, or {@link expire} with `deadlineReason`). */
  static own(controller: AbortController, deadlineReason?: () => unknown): TurnSignal {
    return new TurnSignal(controller.signal, controller, deadlineReason);
  }

  /** A turn bounded by a caller's signal (or by nothing). */
  static following(signal: AbortSignal | undefined): TurnSignal {
    return new TurnSignal(signal ?? neverAborted, undefined, undefined);
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
    this.#closeOpen();
    const inSlot = this.#slotReject;
    this.#slotResolve = this.#slotReject = undefined;
    inSlot?.(abortError(this.signal, this.#slotWhat));
    const waiting = this.#waiting.splice(0);
    for (const onAbort of waiting) onAbort();
  }

  /**
   * Closes `stream` (ends the provider's connection) if the turn aborts before {@link streamEnded}:
   * a turn abandoned at its deadline leaves no model stream open. At once when already aborted.
   */
  closeOnAbort(stream: AsyncIterator<unknown>): void {
    if (this.aborted) {
      closeDetached(stream);
      return;
    }
    if (this.#open === undefined) this.#open = stream;
    else if (this.#moreOpen === undefined) this.#moreOpen = [stream];
    else this.#moreOpen.push(stream);
    if (this.#controller === undefined && this.signal !== neverAborted && this.#onCallerAbort === undefined) {
      this.#onCallerAbort = () => this.#closeOpen();
      this.signal.addEventListener('abort', this.#onCallerAbort, { once: true });
    }
  }

  /** `stream` ended (or failed) by itself: an abort no longer closes it. */
  streamEnded(stream: AsyncIterator<unknown>): void {
    if (this.#open === stream) this.#open = this.#moreOpen?.pop();
    else {
      const more = this.#moreOpen;
      const index = more === undefined ? -1 : more.indexOf(stream);
      if (index === -1) return;
      const last = more!.pop()!;
      if (index < more!.length) more![index] = last;
    }
    if (this.#open === undefined && this.#onCallerAbort !== undefined) {
      this.signal.removeEventListener('abort', this.#onCallerAbort);
      this.#onCallerAbort = undefined;
    }
  }

  #closeOpen(): void {
    this.#onCallerAbort = undefined;
    const open = this.#open;
    this.#open = undefined;
    if (open !== undefined) closeDetached(open);
    for (const stream of this.#moreOpen?.splice(0) ?? []) closeDetached(stream);
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
      this.#slotReject === undefined &&
      this.#waiting.length === 0 &&
      this.#open === undefined &&
      (!this.#listened || this.#noListeners())
    );
  }

  #noListeners(): boolean {
    if (getEventListeners(this.signal, 'abort').length > 0) return false;
    this.#listened = false;
    return true;
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
    if (this.#slotReject === undefined) {
      const raced = new Promise<T>((resolve, reject) => {
        this.#slotResolve = resolve as (value: unknown) => void;
        this.#slotReject = reject;
      });
      this.#slotWhat = what;
      Promise.resolve(promise).then(this.#slotSettled, this.#slotFailed);
      return raced;
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

  /**
   * For a promise the turn awaits directly instead of racing it (the step loop): `onAbort` runs,
   * with the abort, if the turn aborts before {@link unguard}, and ends the turn itself, so the
   * turn is still bounded when something in it ignores the signal. A race costs a promise, a
   * `then` and a trip through the microtask queue: about 2,000 instructions, 6% of an ask
   * (bench/runtime section 4, seventh pass). `onAbort` runs in a microtask of its own, not inside
   * `abort`. False, and nothing kept, when the turn already aborted or a race waits.
   */
  guard<T>(onAbort: (target: T, error: unknown) => void, target: T, what: string): boolean {
    if (this.#controller === undefined || this.#aborted || this.#slotReject !== undefined) return false;
    this.#slotWhat = what;
    this.#guarding = onAbort as (target: unknown, error: unknown) => void;
    this.#guardTarget = target;
    this.#slotReject = this.#guardFired;
    return true;
  }

  /** Ends a {@link guard}: true while it held (the turn did not abort), false once it fired. */
  unguard(): boolean {
    if (this.#guarding === undefined) return false;
    this.#guarding = this.#guardTarget = this.#slotReject = undefined;
    return true;
  }

  /**
   * What a {@link guard} runs on abort, and with what (a function and a record the caller keeps,
   * not a closure per guard); its trigger sits in the race slot's place, one per signal.
   */
  #guarding: ((target: unknown, error: unknown) => void) | undefined = undefined;
  #guardTarget: unknown = undefined;
  readonly #guardFired = (error: unknown): void => {
    const onAbort = this.#guarding;
    const target = this.#guardTarget;
    this.#guarding = this.#guardTarget = undefined;
    if (onAbort !== undefined) queueMicrotask(() => onAbort(target, error));
  };

  #stopWaiting(onAbort: () => void): void {
    const waiting = this.#waiting;
    const index = waiting.indexOf(onAbort);
    if (index === -1) return;
    const last = waiting.pop()!;
    if (index < waiting.length) waiting[index] = last;
  }
}

/** Ends a stream without waiting: a stuck stream may never acknowledge. */
function closeDetached(stream: AsyncIterator<unknown>): void {
  try {
    Promise.resolve(stream.return?.()).catch(() => {});
  } catch {
    // A stream whose return() throws is closed as far as we can close it.
  }
}
