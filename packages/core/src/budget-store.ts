/**
 * The budget port: counters of `spent` and `reserved` per key, each with a cap given by the
 * caller, and the reservations that hold the `reserved` amounts. Amounts are integers
 * (nano-dollars for USD lines, tokens for token lines), so every backend adds them exactly.
 *
 * `reserve` is all-or-nothing over its lines: either every line gets `amount` added to
 * `reserved` because `spent + reserved + amount <= limit` held for each, and the reservation is
 * recorded under its id, or nothing changes. That one check-and-add is what keeps concurrent
 * calls from overshooting a cap, so it must be atomic in the backend:
 *
 * - in memory (`InMemoryBudgetStore`, `@agentrix/gateway`): synchronous code on one thread;
 * - Redis (`RedisBudgetStore`, `@agentrix/gateway`): one Lua script over all the keys;
 * - Postgres / PGlite (`SqlBudgetStore`, `@agentrix/store`): one transaction, per line (sorted by
 *   key so two reservations never deadlock)
 *   `INSERT INTO agentrix_budget_counters (key, spent, reserved, expires_at) VALUES ($1, 0, 0, $4) ON CONFLICT DO NOTHING;`
 *   `UPDATE agentrix_budget_counters SET reserved = reserved + $2 WHERE key = $1 AND spent + reserved + $2 <= $3 RETURNING spent, reserved;`
 *   plus one row in `agentrix_budget_reservations`, and `ROLLBACK` when one UPDATE returns no row.
 *
 * `settle` ends a reservation: what it still holds is released (`reserved -= amount` on each of
 * its lines) and `actual` is added to `spent`. It never fails on a cap: the money is already
 * spent. A reservation is released once, whoever gets there first: `settle`, `releaseExpired` (a
 * sweep, for a holder that died without settling) or `releaseHolder` (a host that restarted
 * releases what its previous run held). A settle that comes after a release only adds `actual`.
 */
export interface BudgetStore {
  reserve(reservation: BudgetReservation): Promise<BudgetReserveResult>;
  settle(settlement: BudgetSettlement): Promise<BudgetSettleResult>;
  /** Current counters (missing keys read as zero). */
  read(keys: readonly string[]): Promise<BudgetCounter[]>;
  /** Releases every reservation whose `expiresAt` is at or before `now` (ms since the epoch). */
  releaseExpired(now: number): Promise<ReleasedReservation[]>;
  /** Releases every reservation of `holder`: a restarted host calls it with its own (stable) holder id. */
  releaseHolder(holder: string): Promise<ReleasedReservation[]>;
  /** Idempotent. Leaves connections passed in open. */
  close(): Promise<void>;
}

export interface BudgetReservation {
  /** Unique per reservation; `settle` names it. */
  id: string;
  /** Who holds it: a process (or gateway) id, stable across restarts when the host sets one. */
  holder: string;
  /** When a sweep may release it (its holder is presumed dead), ms since the epoch. */
  expiresAt: number;
  lines: readonly BudgetReserveLine[];
}

export interface BudgetReserveLine {
  key: string;
  /** The cap; `spent + reserved` may never exceed it. */
  limit: number;
  amount: number;
  /** When the counter may be dropped (end of its period plus a margin), ms since the epoch. Absent: never. */
  expiresAt?: number;
}

export interface BudgetSettlement {
  /** The reservation to end (a reservation no longer held is fine: only `actual` is added then). */
  id: string;
  /** What was really spent, per key (none, or 0 everywhere, releases the reservation only). */
  lines: readonly BudgetSettleLine[];
}

export interface BudgetSettleLine {
  key: string;
  /** What was really spent. */
  actual: number;
  expiresAt?: number;
}

export interface BudgetSettleResult {
  /**
   * False when the reservation was no longer held (a sweep released it after it expired, its
   * holder's restart did, or it never existed): `actual` was added, nothing was released.
   */
  held: boolean;
}

/** A reservation released by `releaseExpired` or `releaseHolder`. */
export interface ReleasedReservation {
  id: string;
  holder: string;
  expiresAt: number;
  /** What it held, per key. */
  lines: { key: string; amount: number }[];
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
