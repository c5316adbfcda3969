import type { TurnSignal } from './turn-signal.js';

/**
 * The turns one agent runs, one per busy thread, and their abort sides. Most agents run one
 * thread at a time, so the first turn sits in fields and a map holds the others only when there
 * are some: a Map or Set whose last entry is deleted reallocates its table (V8 shrinks it: about
 * 150 B and 0.2 µs each; a Map and a Set per turn were 2% of an ask, bench/runtime section 4).
 * An idle agent's costs one small object.
 */
export class RunningTurns {
  #firstThread: string | undefined = undefined;
  #firstTurn: Promise<void> | undefined = undefined;
  #others: Map<string, Promise<void>> | undefined = undefined;
  /** The running turns' aborts, aborted together by stop (swap-removed: no table to reallocate). */
  #signals: TurnSignal[] | undefined = undefined;

  get size(): number {
    return (this.#firstTurn === undefined ? 0 : 1) + (this.#others?.size ?? 0);
  }

  get(threadId: string): Promise<void> | undefined {
    return threadId === this.#firstThread ? this.#firstTurn : this.#others?.get(threadId);
  }

  /** Records the turn of a thread that runs none. */
  set(threadId: string, turn: Promise<void>): void {
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

  values(): Promise<void>[] {
    const turns = this.#others === undefined ? [] : [...this.#others.values()];
    if (this.#firstTurn !== undefined) turns.push(this.#firstTurn);
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
