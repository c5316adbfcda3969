// `@agentrix/store/testing` on PGlite: openTestPglite's `migrations` and useTestPglite.
import { existsSync } from 'node:fs';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Database } from './database.js';
import type { Migration } from './migrations.js';
import { openDatabase } from './open-database.js';
import { openTestPglite } from './testing/pglite-template.js';
import { useTestPglite } from './testing/suite-databases.js';

const migrations: Migration[] = [
  {
    name: '0001_testing_notes',
    async up(db) {
      await sql`create table testing_notes (id int primary key)`.execute(db);
    },
  },
];

async function notes(database: Database): Promise<number> {
  const { rows } = await sql<{ count: number }>`select count(*)::int as count from testing_notes`.execute(
    database.kysely,
  );
  return rows[0]!.count;
}

describe('openTestPglite', () => {
  it('applies the migrations it is given', async () => {
    const pglite = await openTestPglite({ migrations });
    try {
      expect(await notes(pglite.database)).toBe(0);
      expect(await pglite.database.migrate(migrations)).toEqual({ applied: [], skipped: ['0001_testing_notes'] });
    } finally {
      await pglite.dispose();
    }
  }, 30_000);

  it('disposes of the database it holds then (one a test reopened) and of its directory', async () => {
    const pglite = await openTestPglite();
    await pglite.database.close();
    pglite.database = await openDatabase(pglite.directory);
    const reopened = pglite.database;
    await pglite.dispose();
    expect(reopened.closed).toBe(true);
    expect(existsSync(pglite.directory)).toBe(false);
  }, 30_000);
});

describe('useTestPglite', () => {
  const pglite = useTestPglite({ migrations });
  let early: unknown;
  try {
    pglite();
  } catch (error) {
    early = error;
  }

  it('opens its database, migrated, before the tests of its block', async () => {
    expect(await notes(pglite().database)).toBe(0);
  });

  it('throws when read while the tests are collected, before it opened', () => {
    expect(early).toBeInstanceOf(Error);
    expect((early as Error).message).toMatch(/opens in beforeAll/);
  });
});
