// Test support (not exported): a Postgres database in a schema of its own, dropped afterwards.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../database.js';
import { openDatabase } from '../open-database.js';

export interface TestPostgres {
  database: Database;
  schema: string;
  /** Opens another database on the same schema (another "process"). */
  openAnother(): Promise<Database>;
  /** Drops the schema with everything in it, then closes. */
  dispose(): Promise<void>;
}

export async function openTestPostgres(url: string): Promise<TestPostgres> {
  const schema = `test_${randomUUID().replaceAll('-', '')}`;
  const database = await openDatabase(url, { schema });
  const others: Database[] = [];
  return {
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
}
