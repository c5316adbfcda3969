/**
 * What the PGlite and the PostgreSQL database share: the kysely handle, migrations, the
 * in-process notifier, and a close that runs once, after which every operation is refused.
 */
import { AgentrixError } from '@agentrix/core';
import type { CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database, DatabaseDialect, NotificationListener } from './database.js';
import { type MigrateOptions, type Migration, type MigrationResult, migrate } from './migrations.js';
import { LocalNotifier } from './notifier.js';
import type { PreparedStatements } from './prepared-statements.js';

export abstract class SqlDatabase implements Database {
  abstract readonly dialect: DatabaseDialect;
  abstract readonly crossProcessNotify: boolean;
  readonly url: string;
  readonly kysely: Kysely<unknown>;
  readonly hasVector: boolean;
  /** This process's listeners, by channel. */
  protected readonly notifier = new LocalNotifier();
  /** The texts {@link executePrepared} registered, which the driver runs as named statements. */
  protected readonly statements: PreparedStatements;
  #closing: Promise<void> | undefined;

  protected constructor(url: string, kysely: Kysely<unknown>, hasVector: boolean, statements: PreparedStatements) {
    this.url = url;
    this.kysely = kysely;
    this.hasVector = hasVector;
    this.statements = statements;
  }

  abstract listen(channel: string, listener: NotificationListener): Promise<() => Promise<void>>;
  abstract notify(channel: string, payload: string): Promise<void>;
  abstract remoteNotification(channel: string, payload: string): readonly [string, string] | undefined;
  /** Releases the connections; runs once, on the first `close()`. */
  protected abstract shutdown(): Promise<void>;

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  migrate(migrations: readonly Migration[], options?: MigrateOptions): Promise<MigrationResult> {
    this.assertOpen('migrate');
    return migrate(this, migrations, options);
  }

  executePrepared<Row>(query: CompiledQuery<Row>): Promise<QueryResult<Row>> {
    this.statements.add(query.sql);
    return this.kysely.executeQuery(query);
  }

  notifyLocal(channel: string, payload: string): void {
    this.notifier.emit(channel, payload);
  }

  close(): Promise<void> {
    this.#closing ??= this.shutdown();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  protected assertOpen(operation: string): void {
    if (this.#closing) throw new AgentrixError('CLOSED', `Cannot ${operation}: the database "${this.url}" is closed`);
  }
}
