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
 * - in memory (`InMemoryBudgetStore`, `@agentrix/gateway`): synchronous code on one thread;
 * - Redis (`RedisBudgetStore`, `@agentrix/gateway`): one Lua script over all the keys;
 * - Postgres / PGlite (`SqlBudgetStore`, `@agentrix/store`): one transaction, per line (sorted by
 *   key so two reservations never deadlock)
 *   `INSERT INTO agentrix_budget_counters (key, spent, reserved, expires_at) VALUES ($1, 0, 0, $4) ON CONFLICT DO NOTHING;`
 *   `UPDATE agentrix_budget_counters SET reserved = reserved + $2 WHERE key = $1 AND spent + reserved + $2 <= $3 RETURNING spent, reserved;`
 *   and `ROLLBACK` when one UPDATE returns no row.
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
