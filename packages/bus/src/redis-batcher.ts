/**
 * Collects calls made in one turn of the event loop and runs them as one Redis script call per
 * `maxBatch` items (flushed by `setImmediate`, so everything that I/O callbacks of the same turn
 * add goes in the same batch). Several batches may be in flight at once, so Node and Redis work
 * in parallel instead of taking turns. A batch that reaches `maxBatch` items is sent at once,
 * not at the end of the turn: when a turn handles many replies (100 busy agents: about 100 sends
 * and 100 acks a turn), Redis runs the first batches while Node still works through the rest,
 * instead of waiting for the whole turn (100 agents, `bench/bus/e2e-only.ts 3 r1`, same minutes:
 * 105k-107k -> 120k msg/s; wake latency at 20k/s, p50 0.61 -> 0.51 ms).
 *
 * `run` returns one result per item, in order; an `Error` in that array rejects only its item,
 * a rejection of `run` rejects the whole batch. Every rejection goes through `mapError` with the
 * item it rejects (the bus turns Redis errors into `AgentrixError`s naming the inbox there).
 */
export class RedisBatcher<Item, Result> {
  readonly #maxBatch: number;
  readonly #run: (items: Item[]) => Promise<Array<Result | Error>>;
  readonly #mapError: (error: unknown, item: Item) => unknown;
  #items: Item[] = [];
  /** resolve, reject, resolve, reject, ...: two per item. */
  #settlers: Array<(value: any) => void> = [];
  #scheduled: ReturnType<typeof setImmediate> | undefined;

  constructor(
    maxBatch: number,
    run: (items: Item[]) => Promise<Array<Result | Error>>,
    mapError: (error: unknown, item: Item) => unknown = (error) => error,
  ) {
    this.#maxBatch = maxBatch;
    this.#run = run;
    this.#mapError = mapError;
  }

  add(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.#items.push(item);
      this.#settlers.push(resolve, reject);
      // A full batch goes at once: Redis starts on it while Node still handles this turn's other
      // replies (see the class comment).
      if (this.#items.length >= this.#maxBatch) this.flush();
      else if (this.#scheduled === undefined) this.#scheduled = setImmediate(this.#flush);
    });
  }

  readonly #flush = () => this.flush();

  /** Sends what is queued now (also called by the scheduled flush): at most `maxBatch` items, see `add`. */
  flush(): void {
    if (this.#scheduled !== undefined) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    const items = this.#items;
    const settlers = this.#settlers;
    if (items.length === 0) return;
    this.#items = [];
    this.#settlers = [];
    let outcome: Promise<Array<Result | Error>>;
    try {
      outcome = this.#run(items);
    } catch (error) {
      outcome = Promise.reject(error);
    }
    outcome.then(
      (results) => {
        for (let index = 0; index < items.length; index++) {
          const result = results[index];
          if (result instanceof Error) settlers[2 * index + 1]!(this.#mapError(result, items[index]!));
          else settlers[2 * index]!(result);
        }
      },
      (error: unknown) => {
        for (let index = 0; index < items.length; index++) {
          settlers[2 * index + 1]!(this.#mapError(error, items[index]!));
        }
      },
    );
  }
}
