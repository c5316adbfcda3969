// Test support (`@agentrix/store/testing`): a Postgres database in a schema of its own, dropped afterwards.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../database.js';
import type { DatabaseOptions } from '../database-options.js';
import { openDatabase } from '../open-database.js';

export interface TestPostgres {
  database: Database;
  schema: string;
  /** Opens another database on the same schema (another "process"). */
  openAnother(): Promise<Database>;
  /** Drops the schema with everything in it, then closes. */
  dispose(): Promise<void>;
}

/**
 * A database on the server at `url`, in a schema of its own, with `migrations` applied (as
 * `createDatabase({ migrations })` applies them). Dispose of it to drop the schema.
 */
export async function openTestPostgres(
  url: string,
  options: Pick<DatabaseOptions, 'migrations'> = {},
): Promise<TestPostgres> {
  const schema = `test_${randomUUID().replaceAll('-', '')}`;
  const database = await openDatabase(url, { schema });
  const others: Database[] = [];
  const postgres: TestPostgres = {
    database,
    schema,
    async openAnother() {
      const other = await openDatabase(url, { schema });
      others.push(other);
      return other;
    },
    async dispose() {
      for (const other of others) await other.close().catch(() => {});
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(database.kysely).catch(() => {});
      await database.close();
    },
  };
  if (options.migrations === undefined) return postgres;
  // Migrated here, not by openDatabase, so that a failing migration leaves no schema behind.
  try {
    await database.migrate(options.migrations);
  } catch (error) {
    await postgres.dispose();
    throw error;
  }
  return postgres;
}
