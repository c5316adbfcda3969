/**
 * The budget port: counters of `spent` and `reserved` per key, each with a cap given by the
 * caller. Amounts are integers (nano-dollars for USD lines, tokens for token lines), so every
 * backend adds them exactly.
 *
 * `reserve` is all-or-nothing over its lines: either every line gets `amount` added to
 * `reserved` because `spent + reserved + amount <= limit` held for each, or nothing changes.
 * That one check-and-add is what keeps concurrent calls from overshooting a cap, so it must be
 * atomic in the backend:
 *
 * - in memory: synchronous code on one thread;
 * - Redis: one Lua script over all the keys;
 * - Postgres (the store issue), in one transaction, per line:
 *   `INSERT INTO budget_counters (key, spent, reserved, expires_at) VALUES ($1, 0, 0, $4) ON CONFLICT DO NOTHING;`
 *   `UPDATE budget_counters SET reserved = reserved + $2 WHERE key = $1 AND spent + reserved + $2 <= $3 RETURNING spent, reserved;`
 *   and `ROLLBACK` as soon as one UPDATE returns no row (lines sorted by key to avoid deadlocks).
 *
 * `settle` moves a reservation to spending: `reserved -= reserved_i; spent += actual_i`
 * (actual 0 releases it). It never fails on a cap: the money is already spent.
 */
export interface BudgetStore {
  reserve(lines: readonly BudgetReserveLine[]): Promise<BudgetReserveResult>;
  settle(lines: readonly BudgetSettleLine[]): Promise<void>;
  /** Current counters (missing keys read as zero). */
  read(keys: readonly string[]): Promise<BudgetCounter[]>;
  /** Idempotent. Leaves connections passed in open. */
  close(): Promise<void>;
}

export interface BudgetReserveLine {
  key: string;
  /** The cap; `spent + reserved` may never exceed it. */
  limit: number;
  amount: number;
  /** When the counter may be dropped (end of its period plus a margin), ms since the epoch. Absent: never. */
  expiresAt?: number;
}

export interface BudgetSettleLine {
  key: string;
  /** What `reserve` added. */
  reserved: number;
  /** What was really spent (0 releases the reservation). */
  actual: number;
  expiresAt?: number;
}

export interface BudgetCounter {
  key: string;
  spent: number;
  reserved: number;
}

export type BudgetReserveResult =
  | { ok: true; counters: BudgetCounter[] }
  /** `key` is the first line that did not fit; its counter is as it was. */
  | { ok: false; key: string; counter: BudgetCounter };

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
