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
import { type Kysely, sql } from 'kysely';
import type { Database } from './database.js';
import { closedError, invalidArgument, storeError } from './errors.js';
import { jsonb, toNumber } from './json.js';

export interface SqlBudgetStoreOptions {
  /** A database migrated with `storeMigrations`. Not closed by the store. */
  database: Database;
  /** What "expired" means for {@link SqlBudgetStore.deleteExpired}, and reservations' `created_at`. Default `systemClock`. */
  clock?: Clock;
}

interface CounterRow {
  spent: unknown;
  reserved: unknown;
}

interface ReservationRow {
  id: string;
  holder: string;
  expires_at: unknown;
  lines: unknown;
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
  readonly #database: Database;
  readonly #clock: Clock;
  #closed = false;

  constructor(options: SqlBudgetStoreOptions) {
    if (!options?.database) throw invalidArgument('SqlBudgetStore needs { database } (a migrated Database)');
    this.#database = options.database;
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
      await this.#database.kysely.transaction().execute(async (trx) => {
        const inserted = await sql`
          insert into agentrix_budget_reservations (id, holder, expires_at, lines, created_at)
          values (${reservation.id}, ${reservation.holder}, ${reservation.expiresAt}, ${held}, ${this.#clock.now()})
          on conflict (id) do nothing`.execute(trx);
        if (Number(inserted.numAffectedRows ?? 0) === 0) {
          // Nothing was written; storeError below passes this AgentrixError through as it is.
          throw invalidArgument(
            `Budget reservation "${reservation.id}" is already held: give each reservation a new id`,
          );
        }
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

  async settle(settlement: BudgetSettlement): Promise<BudgetSettleResult> {
    this.#assertOpen('settle');
    checkKey(settlement?.id, 'reservation id');
    settlement.lines.forEach(checkSettleLine);
    let held = false;
    try {
      await this.#database.kysely.transaction().execute(async (trx) => {
        const deleted = await sql<{ lines: unknown }>`
          delete from agentrix_budget_reservations where id = ${settlement.id} returning lines`.execute(trx);
        const row = deleted.rows[0];
        held = row !== undefined;
        await applyToCounters(trx, row ? storedLines(row.lines) : [], settlement.lines);
      });
    } catch (error) {
      throw storeError(error, 'settling budget');
    }
    return { held };
  }

  async releaseExpired(now: number): Promise<ReleasedReservation[]> {
    this.#assertOpen('releaseExpired');
    checkAmount('now', now, 'releaseExpired');
    return this.#release(sql`expires_at <= ${now}`, 'releasing expired budget reservations');
  }

  async releaseHolder(holder: string): Promise<ReleasedReservation[]> {
    this.#assertOpen('releaseHolder');
    checkKey(holder, 'holder');
    return this.#release(sql`holder = ${holder}`, 'releasing budget reservations of a holder');
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

  /**
   * Deletes the matching reservation rows (skipping rows another transaction is settling or
   * sweeping: those are released there) and gives back what they held, in one transaction.
   */
  async #release(where: ReturnType<typeof sql>, what: string): Promise<ReleasedReservation[]> {
    try {
      return await this.#database.kysely.transaction().execute(async (trx) => {
        const deleted = await sql<ReservationRow>`
          delete from agentrix_budget_reservations where id in (
            select id from agentrix_budget_reservations where ${where} order by id for update skip locked
          ) returning id, holder, expires_at, lines`.execute(trx);
        const released = deleted.rows.map((row) => ({
          id: row.id,
          holder: row.holder,
          expiresAt: toNumber(row.expires_at),
          lines: storedLines(row.lines),
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
  db: Kysely<any>,
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
      await sql`
        insert into agentrix_budget_counters as c (key, spent, reserved, expires_at)
        values (${key}, ${actual}, 0, ${expiresAt ?? null})
        on conflict (key) do update set
          reserved = greatest(0, c.reserved - ${release}),
          spent = c.spent + ${actual},
          expires_at = coalesce(excluded.expires_at, c.expires_at)`.execute(db);
    } else if (release > 0) {
      await sql`
        update agentrix_budget_counters set reserved = greatest(0, reserved - ${release})
        where key = ${key}`.execute(db);
    }
  }
}

/** The `lines` column: what a reservation holds, per key. */
function storedLines(value: unknown): { key: string; amount: number }[] {
  const lines = (typeof value === 'string' ? JSON.parse(value) : value) as { key: string; amount: unknown }[];
  return lines.map((line) => ({ key: line.key, amount: toNumber(line.amount) }));
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
