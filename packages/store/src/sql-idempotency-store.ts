import type {
  Clock,
  IdempotencyClaim,
  IdempotencyRecord,
  IdempotencyStore,
  Logger,
  SerializedError,
} from '@agentrix/core';
import { silentLogger, systemClock } from '@agentrix/core';
import { invalidArgument, toNumber } from '@agentrix/core/implement';
import type { Kysely } from 'kysely';
import type { Database } from './database.js';
import { storeError } from './errors.js';
import { jsonb, jsonColumn, optionalNumber } from './json.js';
import { type StoreTables, storeKysely } from './store-tables.js';

export interface SqlIdempotencyStoreOptions {
  /** A database migrated with `storeMigrations`. Not closed by the store. */
  database: Database;
  /** Lease times and timestamps. Default `systemClock`. */
  clock?: Clock;
  /** Receives the errors given to `release`. Default: silent. */
  logger?: Logger;
}

/**
 * Tool-call idempotency records in `agentrix_idempotency`. `claim` is one atomic upsert: it
 * takes a free key, or a pending key whose lease expired (its holder crashed), and otherwise
 * returns the record holding it. Safe across processes on a Postgres server.
 */
export class SqlIdempotencyStore implements IdempotencyStore {
  readonly #db: Kysely<StoreTables>;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(options: SqlIdempotencyStoreOptions) {
    if (!options?.database) throw invalidArgument('SqlIdempotencyStore needs { database }');
    this.#db = storeKysely(options.database.kysely);
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
  }

  async claim(key: string, options: { leaseMs: number }): Promise<IdempotencyClaim> {
    checkKey(key);
    const leaseMs = options?.leaseMs;
    if (typeof leaseMs !== 'number' || !(leaseMs > 0)) {
      throw invalidArgument(`claim leaseMs must be a positive number of milliseconds, got ${String(leaseMs)}`);
    }
    try {
      // A record can vanish between the upsert and the select (released): try again.
      for (let attempt = 0; attempt < 5; attempt++) {
        const now = this.#clock.now();
        const until = now + leaseMs;
        // Takes the key when it is free or its lease expired (the conflict's `where` is on the stored row).
        const claimed = await this.#db
          .insertInto('agentrix_idempotency')
          .values({ key, status: 'pending', lease_until: until, created_at: now, updated_at: now })
          .onConflict((conflict) =>
            conflict
              .column('key')
              .doUpdateSet({ lease_until: until, updated_at: now, created_at: now, last_error: null })
              .where('agentrix_idempotency.status', '=', 'pending')
              .where('agentrix_idempotency.lease_until', '<=', now),
          )
          .returning('key')
          .executeTakeFirst();
        if (claimed !== undefined) return { claimed: true };
        const record = await this.get(key);
        if (record !== undefined) return { claimed: false, record };
      }
    } catch (error) {
      throw storeError(error, `claiming idempotency key ${key}`);
    }
    throw storeError(new Error('the key kept changing hands'), `claiming idempotency key ${key}`);
  }

  async complete(key: string, result: unknown): Promise<void> {
    checkKey(key);
    const now = this.#clock.now();
    const value = result === undefined ? null : jsonb(result);
    try {
      await this.#db
        .insertInto('agentrix_idempotency')
        .values({ key, status: 'completed', result: value, created_at: now, updated_at: now })
        .onConflict((conflict) =>
          conflict
            .column('key')
            .doUpdateSet({ status: 'completed', result: value, lease_until: null, last_error: null, updated_at: now }),
        )
        .execute();
    } catch (error) {
      throw storeError(error, `completing idempotency key ${key}`);
    }
  }

  async release(key: string, error?: SerializedError): Promise<void> {
    checkKey(key);
    try {
      await this.#db
        .deleteFrom('agentrix_idempotency')
        .where('key', '=', key)
        .where('status', '=', 'pending')
        .execute();
    } catch (cause) {
      throw storeError(cause, `releasing idempotency key ${key}`);
    }
    if (error !== undefined) this.#logger.warn({ key, error }, 'idempotent call failed; key released');
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    checkKey(key);
    try {
      const row = await this.#db
        .selectFrom('agentrix_idempotency')
        .select(['key', 'status', 'result', 'lease_until', 'created_at', 'updated_at'])
        .where('key', '=', key)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      const record: IdempotencyRecord = {
        key: row.key,
        status: row.status,
        createdAt: toNumber(row.created_at),
        updatedAt: toNumber(row.updated_at),
      };
      const result = jsonColumn<unknown>(row.result);
      if (row.status === 'completed' && result !== undefined) record.result = result;
      const leaseUntil = optionalNumber(row.lease_until);
      if (row.status === 'pending' && leaseUntil !== undefined) record.leaseUntil = leaseUntil;
      return record;
    } catch (error) {
      throw storeError(error, `reading idempotency key ${key}`);
    }
  }
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 1000) {
    throw invalidArgument(`Invalid idempotency key ${JSON.stringify(key)}: expected 1-1000 characters`);
  }
}
