import { AgentrixError, type Clock, systemClock, throwIfAborted } from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';
import { type Kysely, sql } from 'kysely';
import type { Database } from './database.js';
import { storeError } from './errors.js';
import { storeKysely } from './store-tables.js';

/** The table that records applied migrations. */
export const MIGRATIONS_TABLE = 'agentrix_migrations';

/**
 * One schema change, owned by a package. Names are unique across packages and never change
 * once released (prefix them with the package: `0001_store_contexts`, `0001_memory_facts`).
 */
export interface Migration {
  name: string;
  /** Runs inside a transaction: `db` is that transaction. `database` tells the dialect and vector support. */
  up(db: Kysely<unknown>, database: Database): Promise<void>;
}

export interface MigrateOptions {
  signal?: AbortSignal;
  /** `applied_at` timestamps. Default: `systemClock`. */
  clock?: Clock;
}

export interface MigrationResult {
  /** Names applied by this call, in order. */
  applied: string[];
  /** Names found already applied. */
  skipped: string[];
}

/** Failures of the connection, not of a migration: passed on as they are. */
const CONNECTION_CODES: ReadonlySet<string> = new Set(['STORE_UNAVAILABLE', 'AUTH_FAILED', 'DATABASE_NOT_FOUND']);

/** Any fixed number: the advisory lock every migrating process takes, so two never migrate at once. */
const MIGRATION_LOCK = 727_001;

/**
 * Applies `migrations` in the given order, skipping those recorded in {@link MIGRATIONS_TABLE}.
 * Each runs in its own transaction together with its record, under an advisory lock, so
 * concurrent processes apply each migration once. A failing migration is rolled back (nothing of
 * it stays) and rejects with an `AgentrixError` naming it; migrations before it stay applied.
 */
export async function migrate(
  database: Database,
  migrations: readonly Migration[],
  options: MigrateOptions = {},
): Promise<MigrationResult> {
  const clock = options.clock ?? systemClock;
  validateMigrations(migrations);
  const db = storeKysely(database.kysely);
  try {
    await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx);
      await sql`create table if not exists ${sql.table(MIGRATIONS_TABLE)} (
        name text primary key,
        applied_at bigint not null
      )`.execute(trx);
    });
  } catch (error) {
    throw storeError(error, `creating ${MIGRATIONS_TABLE}`);
  }
  const result: MigrationResult = { applied: [], skipped: [] };
  const done = new Set((await db.selectFrom(MIGRATIONS_TABLE).select('name').execute()).map((row) => row.name));
  for (const migration of migrations) {
    throwIfAborted(options.signal, 'migration');
    if (done.has(migration.name)) {
      result.skipped.push(migration.name);
      continue;
    }
    let appliedHere = false;
    try {
      // The migration gets the transaction as every package sees the database: no tables named.
      await database.kysely.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx);
        const existing = await storeKysely(trx)
          .selectFrom(MIGRATIONS_TABLE)
          .select('name')
          .where('name', '=', migration.name)
          .executeTakeFirst();
        if (existing) return; // another process applied it while we waited for the lock
        await migration.up(trx, database);
        await storeKysely(trx)
          .insertInto(MIGRATIONS_TABLE)
          .values({ name: migration.name, applied_at: clock.now() })
          .execute();
        appliedHere = true;
      });
    } catch (error) {
      const cause = storeError(error, `migration "${migration.name}"`);
      // An outage or refused credentials say nothing about the migration: report them as they are.
      if (CONNECTION_CODES.has(cause.code)) throw cause;
      throw new AgentrixError(
        'INTERNAL',
        `Migration "${migration.name}" failed and was rolled back: ${error instanceof Error ? error.message : String(error)}. ` +
          'Fix the migration (or the data it trips on) and run the migrations again; the ones before it stay applied.',
        { cause: error, details: { migration: migration.name } },
      );
    }
    (appliedHere ? result.applied : result.skipped).push(migration.name);
  }
  return result;
}

function validateMigrations(migrations: readonly Migration[]): void {
  if (!Array.isArray(migrations)) throw invalidArgument('migrate expects an array of migrations');
  const seen = new Set<string>();
  for (const [index, migration] of migrations.entries()) {
    if (typeof migration?.name !== 'string' || migration.name.length === 0 || typeof migration.up !== 'function') {
      throw invalidArgument(
        `Invalid migration at index ${index}: expected { name: string, up(db, database) }, like { name: '0001_store_contexts', up }`,
      );
    }
    if (seen.has(migration.name)) {
      throw invalidArgument(`Duplicate migration name "${migration.name}": every migration needs a unique name`);
    }
    seen.add(migration.name);
  }
}
