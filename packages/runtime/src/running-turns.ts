import type { TurnSignal } from './turn-signal.js';

const ended = Promise.resolve();

/**
 * A running turn's end, as a promise made only when someone waits for it (the thread's next
 * message, a stop): a turn ends through its own `#drive` or, when it aborts while its step loop
 * still runs, through the abort (see `TurnSignal.guard`), so no one promise of the turn's is it.
 */
export class TurnEnd {
  #ended = false;
  #promise: Promise<void> | undefined = undefined;
  #resolve: (() => void) | undefined = undefined;

  get promise(): Promise<void> {
    if (this.#ended) return ended;
    this.#promise ??= new Promise<void>((resolve) => {
      this.#resolve = resolve;
    });
    return this.#promise;
  }

  end(): void {
    this.#ended = true;
    this.#resolve?.();
  }
}

/**
 * The turns one agent runs, one per busy thread, and their abort sides. Most agents run one
 * thread at a time, so the first turn sits in fields and a map holds the others only when there
 * are some: a Map or Set whose last entry is deleted reallocates its table (V8 shrinks it: about
 * 150 B and 0.2 µs each; a Map and a Set per turn were 2% of an ask, bench/runtime section 4).
 * An idle agent's costs one small object.
 */
export class RunningTurns {
  #firstThread: string | undefined = undefined;
  #firstTurn: TurnEnd | undefined = undefined;
  #others: Map<string, TurnEnd> | undefined = undefined;
  /** The running turns' aborts, aborted together by stop (swap-removed: no table to reallocate). */
  #signals: TurnSignal[] | undefined = undefined;

  get size(): number {
    return (this.#firstTurn === undefined ? 0 : 1) + (this.#others?.size ?? 0);
  }

  get(threadId: string): TurnEnd | undefined {
    return threadId === this.#firstThread ? this.#firstTurn : this.#others?.get(threadId);
  }

  /** Records the turn of a thread that runs none. */
  set(threadId: string, turn: TurnEnd): void {
    if (this.#firstTurn === undefined) {
      this.#firstThread = threadId;
      this.#firstTurn = turn;
    } else {
      this.#others ??= new Map();
      this.#others.set(threadId, turn);
    }
  }

  delete(threadId: string): void {
    if (threadId === this.#firstThread) {
      this.#firstThread = undefined;
      this.#firstTurn = undefined;
    } else {
      this.#others?.delete(threadId);
    }
  }

  /** The ends of the running turns, as promises. */
  ends(): Promise<void>[] {
    const turns = this.#others === undefined ? [] : [...this.#others.values()].map((turn) => turn.promise);
    if (this.#firstTurn !== undefined) turns.push(this.#firstTurn.promise);
    return turns;
  }

  addSignal(turn: TurnSignal): void {
    this.#signals ??= [];
    this.#signals.push(turn);
  }

  removeSignal(turn: TurnSignal): void {
    const signals = this.#signals;
    const index = signals === undefined ? -1 : signals.indexOf(turn);
    if (index === -1) return;
    const last = signals!.pop()!;
    if (index < signals!.length) signals![index] = last;
  }

  /** Aborts every running turn. */
  abortAll(reason: unknown): void {
    for (const turn of this.#signals?.slice() ?? []) turn.abort(reason);
  }
}
