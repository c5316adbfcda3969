import type {
  BudgetCounter,
  BudgetReservation,
  BudgetReserveLine,
  BudgetReserveResult,
  BudgetSettleLine,
  BudgetSettlement,
  BudgetSettleResult,
  BudgetStore,
  Clock,
  ReleasedReservation,
} from '@agentrix/core';
import { systemClock } from '@agentrix/core';
import { invalidArgument, toNumber } from '@agentrix/core/implement';
import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import type { Database } from './database.js';
import { closedError, storeError } from './errors.js';
import { jsonb } from './json.js';
import { type StoreTables, storeKysely } from './store-tables.js';

export interface SqlBudgetStoreOptions {
  /** A database migrated with `storeMigrations`. Not closed by the store. */
  database: Database;
  /** What "expired" means for {@link SqlBudgetStore.deleteExpired}, and reservations' `created_at`. Default `systemClock`. */
  clock?: Clock;
}

/** A condition on reservation rows: which ones a sweep releases. */
type ReservationFilter = (eb: ExpressionBuilder<StoreTables, 'agentrix_budget_reservations'>) => Expression<SqlBool>;

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
 * Each reservation in flight is a row of `agentrix_budget_reservations` (what it holds, its
 * holder, its expiry). Whoever deletes that row gives the amounts back: `settle`, a sweep of
 * expired ones (`releaseExpired`, for a process killed between reserve and settle) or a restarted
 * holder (`releaseHolder`). Every transaction takes the reservation row first and then counters in
 * key order, and sweeps skip rows another transaction holds, so none of them deadlock.
 *
 * Counter keys carry their period (the gateway writes `team:usd:2025-06-01`), so a new period
 * starts a new row; `expiresAt` only says when {@link SqlBudgetStore.deleteExpired} may drop one.
 */
export class SqlBudgetStore implements BudgetStore {
  readonly #db: Kysely<StoreTables>;
  readonly #clock: Clock;
  #closed = false;

  constructor(options: SqlBudgetStoreOptions) {
    if (!options?.database) throw invalidArgument('SqlBudgetStore needs { database } (a migrated Database)');
    this.#db = storeKysely(options.database.kysely);
    this.#clock = options.clock ?? systemClock;
  }

  async reserve(reservation: BudgetReservation): Promise<BudgetReserveResult> {
    this.#assertOpen('reserve');
    checkReservation(reservation);
    const { lines } = reservation;
    if (lines.length === 0) return { ok: true, counters: [] };
    const order = lines.map((_, index) => index).sort((a, b) => compareKeys(lines[a]!.key, lines[b]!.key));
    const counters: BudgetCounter[] = new Array(lines.length);
    const held = jsonb(lines.map((line) => ({ key: line.key, amount: line.amount })));
    try {
      await this.#db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('agentrix_budget_reservations')
          .values({
            id: reservation.id,
            holder: reservation.holder,
            expires_at: reservation.expiresAt,
            lines: held,
            created_at: this.#clock.now(),
          })
          .onConflict((conflict) => conflict.column('id').doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
          // Nothing was written; storeError below passes this AgentrixError through as it is.
          throw invalidArgument(
            `Budget reservation "${reservation.id}" is already held: give each reservation a new id`,
          );
        }
        const refused: number[] = [];
        for (const index of order) {
          const line = lines[index]!;
          await trx
            .insertInto('agentrix_budget_counters')
            .values({ key: line.key, spent: 0, reserved: 0, expires_at: line.expiresAt ?? null })
            .onConflict((conflict) => conflict.column('key').doNothing())
            .execute();
          // Takes the amount only when it fits under the cap: one statement, so no race.
          const row = await trx
            .updateTable('agentrix_budget_counters')
            .set((eb) => ({ reserved: eb('reserved', '+', line.amount) }))
            .where('key', '=', line.key)
            .where((eb) => eb(eb(eb('spent', '+', eb.ref('reserved')), '+', line.amount), '<=', line.limit))
            .returning(['spent', 'reserved'])
            .executeTakeFirst();
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

  async settle(settlement: BudgetSettlement): Promise<BudgetSettleResult> {
    this.#assertOpen('settle');
    checkKey(settlement?.id, 'reservation id');
    settlement.lines.forEach(checkSettleLine);
    let held = false;
    try {
      await this.#db.transaction().execute(async (trx) => {
        const row = await trx
          .deleteFrom('agentrix_budget_reservations')
          .where('id', '=', settlement.id)
          .returning('lines')
          .executeTakeFirst();
        held = row !== undefined;
        await applyToCounters(trx, row?.lines ?? [], settlement.lines);
      });
    } catch (error) {
      throw storeError(error, 'settling budget');
    }
    return { held };
  }

  async releaseExpired(now: number): Promise<ReleasedReservation[]> {
    this.#assertOpen('releaseExpired');
    checkAmount('now', now, 'releaseExpired');
    return this.#release((eb) => eb('expires_at', '<=', now), 'releasing expired budget reservations');
  }

  async releaseHolder(holder: string): Promise<ReleasedReservation[]> {
    this.#assertOpen('releaseHolder');
    checkKey(holder, 'holder');
    return this.#release((eb) => eb('holder', '=', holder), 'releasing budget reservations of a holder');
  }

  async read(keys: readonly string[]): Promise<BudgetCounter[]> {
    this.#assertOpen('read');
    for (const key of keys) checkKey(key);
    if (keys.length === 0) return [];
    try {
      const rows = await this.#db
        .selectFrom('agentrix_budget_counters')
        .select(['key', 'spent', 'reserved'])
        .where('key', 'in', [...new Set(keys)])
        .execute();
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
      const result = await this.#db
        .deleteFrom('agentrix_budget_counters')
        .where('expires_at', '<=', this.#clock.now())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    } catch (error) {
      throw storeError(error, 'deleting expired budget counters');
    }
  }

  /**
   * Deletes the matching reservation rows (skipping rows another transaction is settling or
   * sweeping: those are released there) and gives back what they held, in one transaction.
   */
  async #release(where: ReservationFilter, what: string): Promise<ReleasedReservation[]> {
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const deleted = await trx
          .deleteFrom('agentrix_budget_reservations')
          .where(
            'id',
            'in',
            trx
              .selectFrom('agentrix_budget_reservations')
              .select('id')
              .where(where)
              .orderBy('id')
              .forUpdate()
              .skipLocked(),
          )
          .returning(['id', 'holder', 'expires_at', 'lines'])
          .execute();
        const released = deleted.map((row) => ({
          id: row.id,
          holder: row.holder,
          expiresAt: toNumber(row.expires_at),
          lines: row.lines,
        }));
        await applyToCounters(
          trx,
          released.flatMap((reservation) => reservation.lines),
          [],
        );
        return released.sort((a, b) => compareKeys(a.id, b.id));
      });
    } catch (error) {
      throw storeError(error, what);
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

/**
 * Gives back `released` and adds `spent` (per key, summed), touching counters in key order.
 * A key only released is updated when its row still exists; a key spent on is created if needed.
 */
async function applyToCounters(
  db: Kysely<StoreTables>,
  released: readonly { key: string; amount: number }[],
  spent: readonly BudgetSettleLine[],
): Promise<void> {
  const changes = new Map<string, { release: number; actual: number; expiresAt: number | undefined }>();
  const change = (key: string) => {
    let entry = changes.get(key);
    if (!entry) {
      entry = { release: 0, actual: 0, expiresAt: undefined };
      changes.set(key, entry);
    }
    return entry;
  };
  for (const line of released) change(line.key).release += line.amount;
  for (const line of spent) {
    const entry = change(line.key);
    entry.actual += line.actual;
    if (line.expiresAt !== undefined) entry.expiresAt = line.expiresAt;
  }
  for (const key of [...changes.keys()].sort(compareKeys)) {
    const { release, actual, expiresAt } = changes.get(key)!;
    if (actual > 0) {
      await db
        .insertInto('agentrix_budget_counters')
        .values({ key, spent: actual, reserved: 0, expires_at: expiresAt ?? null })
        .onConflict((conflict) =>
          conflict.column('key').doUpdateSet((eb) => ({
            reserved: eb.fn('greatest', [eb.lit(0), eb('agentrix_budget_counters.reserved', '-', release)]),
            spent: eb('agentrix_budget_counters.spent', '+', actual),
            expires_at: eb.fn.coalesce('excluded.expires_at', 'agentrix_budget_counters.expires_at'),
          })),
        )
        .execute();
    } else if (release > 0) {
      await db
        .updateTable('agentrix_budget_counters')
        .set((eb) => ({ reserved: eb.fn('greatest', [eb.lit(0), eb('reserved', '-', release)]) }))
        .where('key', '=', key)
        .execute();
    }
  }
}

/** Byte order, the same in every process, so concurrent reservations lock rows in one order. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkKey(key: unknown, what = 'key'): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 1000) {
    throw invalidArgument(`Invalid budget ${what} ${JSON.stringify(key)}: expected 1-1000 characters`);
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

function checkReservation(reservation: BudgetReservation): void {
  checkKey(reservation?.id, 'reservation id');
  checkKey(reservation.holder, 'holder');
  checkAmount('reservation expiresAt', reservation.expiresAt, reservation.id);
  if (!Array.isArray(reservation.lines)) throw invalidArgument('A budget reservation needs `lines` (an array)');
  reservation.lines.forEach(checkReserveLine);
}

function checkSettleLine(line: BudgetSettleLine): void {
  checkKey(line?.key);
  checkAmount('actual', line.actual, line.key);
  if (line.expiresAt !== undefined) checkAmount('expiresAt', line.expiresAt, line.key);
}
