import type {
  BudgetCounter,
  BudgetReserveLine,
  BudgetReserveResult,
  BudgetSettleLine,
  BudgetStore,
  Clock,
} from '@agentrix/core';
import { systemClock } from '@agentrix/core';
import { type Kysely, sql } from 'kysely';
import type { Database } from './database.js';
import { closedError, invalidArgument, storeError } from './errors.js';
import { toNumber } from './json.js';

export interface SqlBudgetStoreOptions {
  /** A database migrated with `storeMigrations`. Not closed by the store. */
  database: Database;
  /** What "expired" means for {@link SqlBudgetStore.deleteExpired}. Default `systemClock`. */
  clock?: Clock;
}

interface CounterRow {
  spent: unknown;
  reserved: unknown;
}

/** Thrown inside the reservation transaction to roll it back; never leaves this file. */
class Refused {
  constructor(readonly index: number) {}
}

/**
 * Budget counters in `agentrix_budget_counters`, shared by every gateway on the same database
 * (processes and machines on a Postgres server). A reservation is one transaction; each of its
 * lines is a single conditional `UPDATE ... WHERE spent + reserved + amount <= limit RETURNING`,
 * so concurrent calls can never take more than the cap, and a line that does not fit rolls the
 * whole reservation back. Lines are taken in key order, so two reservations never deadlock.
 *
 * Counter keys carry their period (the gateway writes `team:usd:2025-06-01`), so a new period
 * starts a new row; `expiresAt` only says when {@link SqlBudgetStore.deleteExpired} may drop one.
 */
export class SqlBudgetStore implements BudgetStore {
  readonly #database: Database;
  readonly #clock: Clock;
  #closed = false;

  constructor(options: SqlBudgetStoreOptions) {
    if (!options?.database) throw invalidArgument('SqlBudgetStore needs { database } (a migrated Database)');
    this.#database = options.database;
    this.#clock = options.clock ?? systemClock;
  }

  async reserve(lines: readonly BudgetReserveLine[]): Promise<BudgetReserveResult> {
    this.#assertOpen('reserve');
    lines.forEach(checkReserveLine);
    if (lines.length === 0) return { ok: true, counters: [] };
    const order = lines.map((_, index) => index).sort((a, b) => compareKeys(lines[a]!.key, lines[b]!.key));
    const counters: BudgetCounter[] = new Array(lines.length);
    try {
      await this.#database.kysely.transaction().execute(async (trx) => {
        const refused: number[] = [];
        for (const index of order) {
          const line = lines[index]!;
          await sql`
            insert into agentrix_budget_counters (key, spent, reserved, expires_at)
            values (${line.key}, 0, 0, ${line.expiresAt ?? null})
            on conflict (key) do nothing`.execute(trx);
          const updated = await sql<CounterRow>`
            update agentrix_budget_counters set reserved = reserved + ${line.amount}
            where key = ${line.key} and spent + reserved + ${line.amount} <= ${line.limit}
            returning spent, reserved`.execute(trx);
          const row = updated.rows[0];
          if (row === undefined) refused.push(index);
          else counters[index] = { key: line.key, spent: toNumber(row.spent), reserved: toNumber(row.reserved) };
        }
        // Report the first line in the caller's order that did not fit, like the other backends.
        if (refused.length > 0) throw new Refused(Math.min(...refused));
      });
      return { ok: true, counters };
    } catch (error) {
      if (!(error instanceof Refused)) throw storeError(error, 'reserving budget');
      const line = lines[error.index]!;
      // The transaction is rolled back: the refused line's counter is as it was (zero when new).
      const [counter] = await this.read([line.key]);
      return { ok: false, key: line.key, counter: counter! };
    }
  }

  async settle(lines: readonly BudgetSettleLine[]): Promise<void> {
    this.#assertOpen('settle');
    lines.forEach(checkSettleLine);
    if (lines.length === 0) return;
    const sorted = [...lines].sort((a, b) => compareKeys(a.key, b.key));
    const apply = async (db: Kysely<any>) => {
      for (const line of sorted) {
        await sql`
          insert into agentrix_budget_counters as c (key, spent, reserved, expires_at)
          values (${line.key}, ${line.actual}, 0, ${line.expiresAt ?? null})
          on conflict (key) do update set
            reserved = greatest(0, c.reserved - ${line.reserved}),
            spent = c.spent + ${line.actual},
            expires_at = coalesce(excluded.expires_at, c.expires_at)`.execute(db);
      }
    };
    try {
      // One line is one atomic statement; several settle together.
      if (sorted.length === 1) await apply(this.#database.kysely);
      else await this.#database.kysely.transaction().execute(apply);
    } catch (error) {
      throw storeError(error, 'settling budget');
    }
  }

  async read(keys: readonly string[]): Promise<BudgetCounter[]> {
    this.#assertOpen('read');
    for (const key of keys) checkKey(key);
    if (keys.length === 0) return [];
    try {
      const rows = (await this.#database.kysely
        .selectFrom('agentrix_budget_counters')
        .select(['key', 'spent', 'reserved'])
        .where('key', 'in', [...new Set(keys)])
        .execute()) as (CounterRow & { key: string })[];
      const byKey = new Map(rows.map((row) => [row.key, row]));
      return keys.map((key) => {
        const row = byKey.get(key);
        return { key, spent: row ? toNumber(row.spent) : 0, reserved: row ? toNumber(row.reserved) : 0 };
      });
    } catch (error) {
      throw storeError(error, 'reading budget counters');
    }
  }

  /**
   * Drops counters whose `expiresAt` has passed (past periods): run it now and then, for example
   * from a daily cron tick. Resolves with the number of counters dropped.
   */
  async deleteExpired(): Promise<number> {
    this.#assertOpen('deleteExpired');
    try {
      const result = await this.#database.kysely
        .deleteFrom('agentrix_budget_counters')
        .where('expires_at', '<=', this.#clock.now())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    } catch (error) {
      throw storeError(error, 'deleting expired budget counters');
    }
  }

  /** Idempotent; leaves the database open. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw closedError('SqlBudgetStore', operation);
  }
}

/** Byte order, the same in every process, so concurrent reservations lock rows in one order. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkKey(key: unknown): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 1000) {
    throw invalidArgument(`Invalid budget key ${JSON.stringify(key)}: expected 1-1000 characters`);
  }
}

function checkAmount(name: string, value: unknown, key: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(
      `Invalid budget ${name} ${String(value)} for "${key}": expected a non-negative integer (nano-dollars or tokens)`,
    );
  }
}

function checkReserveLine(line: BudgetReserveLine): void {
  checkKey(line?.key);
  checkAmount('limit', line.limit, line.key);
  checkAmount('amount', line.amount, line.key);
  if (line.expiresAt !== undefined) checkAmount('expiresAt', line.expiresAt, line.key);
}

function checkSettleLine(line: BudgetSettleLine): void {
  checkKey(line?.key);
  checkAmount('reserved', line.reserved, line.key);
  checkAmount('actual', line.actual, line.key);
  if (line.expiresAt !== undefined) checkAmount('expiresAt', line.expiresAt, line.key);
}
