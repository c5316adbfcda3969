// Test support (exported from @agentrix/store/testing): the databases a crash test's processes
// share, on disk (PGlite) or on a server (Postgres), made fresh for one test and removed after it.
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase } from '../open-database.js';

/**
 * Runs `test` on a new PGlite data directory under the OS temp dir, removed afterwards. It is
 * empty: the first process to open it starts it from the store's PGlite template.
 */
export async function onPgliteDirectory(name: string, test: (directory: string) => Promise<void>): Promise<void> {
  const directory = path.join(os.tmpdir(), `agentrix-${name}-${randomUUID()}`);
  try {
    await test(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Runs `test` on a new schema of the Postgres server at `url`, dropped with everything in it afterwards. */
export async function onPostgresSchema(
  url: string,
  name: string,
  test: (schema: string) => Promise<void>,
): Promise<void> {
  const schema = `${name}_${randomUUID().replaceAll('-', '')}`;
  try {
    await test(schema);
  } finally {
    await using database = await openDatabase(url, { schema, vector: 'off' });
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(database.kysely);
  }
}
