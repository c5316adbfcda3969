import type {
  BudgetCounter,
  BudgetReserveLine,
  BudgetReserveResult,
  BudgetSettleLine,
  BudgetStore,
} from '@agentrix/core';

// The port lives in @agentrix/core (so @agentrix/store can implement it); re-exported for the gateway's files.
export type { BudgetCounter, BudgetReserveLine, BudgetReserveResult, BudgetSettleLine, BudgetStore };

/** The default backend: counters in a Map. One process only. */
export class InMemoryBudgetStore implements BudgetStore {
  readonly #counters = new Map<string, { spent: number; reserved: number; expiresAt: number | undefined }>();
  readonly #now: () => number;

  /** `now` drops expired counters lazily. Default `Date.now`. */
  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async reserve(lines: readonly BudgetReserveLine[]): Promise<BudgetReserveResult> {
    return this.reserveSync(lines);
  }

  /** The same as `reserve`, without the promise (the bench measures both). */
  reserveSync(lines: readonly BudgetReserveLine[]): BudgetReserveResult {
    for (const line of lines) {
      const counter = this.#get(line.key);
      if (counter.spent + counter.reserved + line.amount > line.limit) {
        return {
          ok: false,
          key: line.key,
          counter: { key: line.key, spent: counter.spent, reserved: counter.reserved },
        };
      }
    }
    const counters: BudgetCounter[] = [];
    for (const line of lines) {
      let counter = this.#counters.get(line.key);
      if (!counter) {
        counter = { spent: 0, reserved: 0, expiresAt: line.expiresAt };
        this.#counters.set(line.key, counter);
      }
      counter.reserved += line.amount;
      counters.push({ key: line.key, spent: counter.spent, reserved: counter.reserved });
    }
    return { ok: true, counters };
  }

  async settle(lines: readonly BudgetSettleLine[]): Promise<void> {
    this.settleSync(lines);
  }

  settleSync(lines: readonly BudgetSettleLine[]): void {
    for (const line of lines) {
      let counter = this.#counters.get(line.key);
      if (!counter) {
        counter = { spent: 0, reserved: 0, expiresAt: line.expiresAt };
        this.#counters.set(line.key, counter);
      }
      counter.reserved = Math.max(0, counter.reserved - line.reserved);
      counter.spent += line.actual;
    }
  }

  async read(keys: readonly string[]): Promise<BudgetCounter[]> {
    return keys.map((key) => {
      const counter = this.#get(key);
      return { key, spent: counter.spent, reserved: counter.reserved };
    });
  }

  async close(): Promise<void> {}

  #get(key: string): { spent: number; reserved: number } {
    const counter = this.#counters.get(key);
    if (!counter) return ZERO;
    if (counter.expiresAt !== undefined && counter.expiresAt <= this.#now()) {
      this.#counters.delete(key);
      return ZERO;
    }
    return counter;
  }
}

const ZERO = Object.freeze({ spent: 0, reserved: 0 });
