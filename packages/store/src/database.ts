import type { CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { MigrateOptions, Migration, MigrationResult } from './migrations.js';

/** Which engine a {@link Database} runs on. */
export type DatabaseDialect = 'pglite' | 'postgres';

/** Receives the payload of a notification on a channel (`'*'` after a reconnect: "re-check everything"). */
export type NotificationListener = (payload: string) => void;

/**
 * An open database: a kysely instance plus what Agentrix needs around it (migrations,
 * notifications, vector support, `close()`). Implemented by {@link PgliteDatabase} (embedded,
 * in memory or on disk) and {@link PostgresDatabase} (a `pg` pool on a server); open one with
 * `openDatabase(url)`.
 */
export interface Database extends AsyncDisposable {
  readonly dialect: DatabaseDialect;
  /** The URL it was opened from, with credentials redacted. */
  readonly url: string;
  /**
   * The query builder, shared by every package's tables, so it names none: each package declares
   * its tables as a kysely database interface and views this through it in one place
   * (`database.kysely as Kysely<StoreTables>`). Raw `sql` runs on it as it is.
   */
  readonly kysely: Kysely<unknown>;
  /**
   * Runs `query` (compiled on {@link Database.kysely}) as a named prepared statement: parsed and
   * described once per connection, then bound to each call's values, and planned by Postgres for
   * them until it keeps a generic plan (after five executions, when that plan costs no more).
   * For reads of a fixed shape run again and again (by text: the same text with other values),
   * whose plan does not hinge on a value; a text whose plan does (a tsquery the planner must see)
   * belongs in a plain statement. The first 100 distinct texts are prepared, later ones run plain.
   */
  executePrepared<Row>(query: CompiledQuery<Row>): Promise<QueryResult<Row>>;
  /** True when the pgvector extension is loaded (always on PGlite; on a server when installed). */
  readonly hasVector: boolean;
  /** True when `notify` reaches other processes (Postgres LISTEN/NOTIFY); PGlite lives in one process. */
  readonly crossProcessNotify: boolean;
  readonly closed: boolean;
  /** Applies the migrations not applied yet, in order, each in its own transaction. */
  migrate(migrations: readonly Migration[], options?: MigrateOptions): Promise<MigrationResult>;
  /**
   * Calls `listener` for every notification on `channel`: from this process at once, and on
   * Postgres from other processes through LISTEN/NOTIFY. Resolves with an unsubscribe function.
   */
  listen(channel: string, listener: NotificationListener): Promise<() => Promise<void>>;
  /** Notifies the listeners of `channel` in this process and (Postgres) in every other one. */
  notify(channel: string, payload: string): Promise<void>;
  /**
   * For statements that notify as they write (one round trip): the `[channel, payload]` to pass
   * to `pg_notify` inside the statement, or `undefined` when there is nobody outside this process
   * to tell (PGlite). Call {@link Database.notifyLocal} after the statement in either case.
   */
  remoteNotification(channel: string, payload: string): readonly [string, string] | undefined;
  /** Notifies the listeners of `channel` in this process only. */
  notifyLocal(channel: string, payload: string): void;
  /** Closes the pool or the embedded engine. Idempotent: a second call returns the same promise. */
  close(): Promise<void>;
}
