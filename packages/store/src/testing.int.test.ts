// `@agentrix/store/testing` on a Postgres server: openTestPostgres's `migrations` and useTestPostgres.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Migration } from './migrations.js';
import { openDatabase } from './open-database.js';
import { openTestPostgres } from './testing/postgres-schema.js';
import { useTestPostgres } from './testing/suite-databases.js';

const url = process.env.DATABASE_URL;

const migrations: Migration[] = [
  {
    name: '0001_testing_notes',
    async up(db) {
      await sql`create table testing_notes (id int primary key)`.execute(db);
    },
  },
];

describe.skipIf(!url)('openTestPostgres', () => {
  it('applies the migrations it is given, in its own schema', async () => {
    const postgres = await openTestPostgres(url!, { migrations });
    try {
      await sql`insert into testing_notes values (1)`.execute(postgres.database.kysely);
      const other = await postgres.openAnother();
      const { rows } = await sql<{ schema: string }>`
        select table_schema as schema from information_schema.tables where table_name = 'testing_notes'
          and table_schema = ${postgres.schema}`.execute(other.kysely);
      expect(rows).toEqual([{ schema: postgres.schema }]);
      expect(await postgres.database.migrate(migrations)).toEqual({ applied: [], skipped: ['0001_testing_notes'] });
    } finally {
      await postgres.dispose();
    }
  });

  it('rejects with a failing migration and leaves no schema behind', async () => {
    let schema: string | undefined;
    const failing: Migration[] = [
      {
        name: '0001_testing_fails',
        async up(db) {
          const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
          schema = rows[0]!.schema;
          throw new Error('this migration fails');
        },
      },
    ];
    await expect(openTestPostgres(url!, { migrations: failing })).rejects.toThrow(/this migration fails/);
    expect(schema).toMatch(/^test_/);
    await using database = await openDatabase(url!);
    const { rows } = await sql`select 1 from information_schema.schemata where schema_name = ${schema!}`.execute(
      database.kysely,
    );
    expect(rows).toEqual([]);
  });
});

describe.skipIf(!url)('useTestPostgres', () => {
  const postgres = useTestPostgres(url!, { migrations });

  it('opens its schema, migrated, before the tests of its block', async () => {
    const { rows } = await sql<{ count: number }>`select count(*)::int as count from testing_notes`.execute(
      postgres().database.kysely,
    );
    expect(rows).toEqual([{ count: 0 }]);
  });
});
