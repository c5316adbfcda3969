import type {
  Clock,
  IdempotencyClaim,
  IdempotencyRecord,
  IdempotencyStore,
  Logger,
  SerializedError,
} from '@agentrix/core';
import { silentLogger, systemClock } from '@agentrix/core';
import { sql } from 'kysely';
import type { Database } from './database.js';
import { invalidArgument, storeError } from './errors.js';
import { jsonb, optionalNumber, toNumber } from './json.js';

export interface SqlIdempotencyStoreOptions {
  /** A database migrated with `storeMigrations`. Not closed by the store. */
  database: Database;
  /** Lease times and timestamps. Default `systemClock`. */
  clock?: Clock;
  /** Receives the errors given to `release`. Default: silent. */
  logger?: Logger;
}

interface IdempotencyRow {
  key: string;
  status: 'pending' | 'completed';
  result: unknown;
  lease_until: unknown;
  created_at: unknown;
  updated_at: unknown;
}

/**
 * Tool-call idempotency records in `agentrix_idempotency`. `claim` is one atomic upsert: it
 * takes a free key, or a pending key whose lease expired (its holder crashed), and otherwise
 * returns the record holding it. Safe across processes on a Postgres server.
 */
export class SqlIdempotencyStore implements IdempotencyStore {
  readonly #database: Database;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(options: SqlIdempotencyStoreOptions) {
    if (!options?.database) throw invalidArgument('SqlIdempotencyStore needs { database }');
    this.#database = options.database;
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
        const claimed = await sql<{ key: string }>`
          insert into agentrix_idempotency as r (key, status, lease_until, created_at, updated_at)
          values (${key}, 'pending', ${until}, ${now}, ${now})
          on conflict (key) do update set lease_until = excluded.lease_until, updated_at = excluded.updated_at,
            created_at = excluded.created_at, last_error = null
          where r.status = 'pending' and r.lease_until <= ${now}
          returning key`.execute(this.#database.kysely);
        if (claimed.rows.length > 0) return { claimed: true };
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
      await sql`
        insert into agentrix_idempotency as r (key, status, result, created_at, updated_at)
        values (${key}, 'completed', ${value}, ${now}, ${now})
        on conflict (key) do update set status = 'completed', result = excluded.result, lease_until = null,
          last_error = null, updated_at = excluded.updated_at`.execute(this.#database.kysely);
    } catch (error) {
      throw storeError(error, `completing idempotency key ${key}`);
    }
  }

  async release(key: string, error?: SerializedError): Promise<void> {
    checkKey(key);
    try {
      await this.#database.kysely
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
      const row = (await this.#database.kysely
        .selectFrom('agentrix_idempotency')
        .select(['key', 'status', 'result', 'lease_until', 'created_at', 'updated_at'])
        .where('key', '=', key)
        .executeTakeFirst()) as IdempotencyRow | undefined;
      if (row === undefined) return undefined;
      const record: IdempotencyRecord = {
        key: row.key,
        status: row.status,
        createdAt: toNumber(row.created_at),
        updatedAt: toNumber(row.updated_at),
      };
      if (row.status === 'completed' && row.result !== null && row.result !== undefined) record.result = row.result;
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
