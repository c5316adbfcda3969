import { openTestPglite, type TestPglite } from '@agentrix/store/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemory } from './memory.js';

// PGlite has no autovacuum: without the memory's own ANALYZE the planner never has statistics.
describe('planner statistics on PGlite', () => {
  let test: TestPglite;
  const turn = (userId: string, index: number) => ({
    scope: { userId },
    messageId: `${userId}-${index}`,
    messages: [{ role: 'user' as const, name: 'Ana', content: `turn ${index} about the kiln` }],
  });
  const analyzedRows = async () =>
    Number(
      (
        await sql<{ reltuples: number }>`select reltuples::float8 as reltuples from pg_class
          where oid = 'memory_episodes'::regclass`.execute(test.database.kysely)
      ).rows[0]?.reltuples,
    );

  beforeAll(async () => {
    test = await openTestPglite();
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('a memory opened on more rows than its last ANALYZE saw (written by SQL, by an older version) analyzes them', async () => {
    const first = await createMemory({ database: test.database });
    for (let index = 0; index < 30; index++) {
      await sql`insert into memory_episodes (id, user_id, text, unstructured, created_at, occurred_at)
        values (${`sql-${index}`}, 'sql-user', ${`row ${index}`}, true, 0, 0)`.execute(test.database.kysely);
    }
    await first.close();
    // Analyzed empty by the migrations; 30 rows are not enough yet.
    expect(await analyzedRows()).toBe(0);
    await createMemory({ database: test.database });
    expect(await analyzedRows()).toBe(0);
    for (let index = 30; index < 51; index++) {
      await sql`insert into memory_episodes (id, user_id, text, unstructured, created_at, occurred_at)
        values (${`sql-${index}`}, 'sql-user', ${`row ${index}`}, true, 0, 0)`.execute(test.database.kysely);
    }
    await createMemory({ database: test.database });
    expect(await analyzedRows()).toBe(51);
  });

  it('writes analyze once 50 rows plus 10% of the table changed, as autovacuum would', async () => {
    const memory = await createMemory({ database: test.database });
    // 51 rows at the last ANALYZE: due after 50 + 5.1 rows.
    for (let index = 0; index < 55; index++) await memory.recordEpisode(turn('live', index));
    expect(await analyzedRows()).toBe(51);
    await memory.recordEpisode(turn('live', 55));
    expect(await analyzedRows()).toBe(107);
  });

  it('an import analyzes when it is written', async () => {
    const memory = await createMemory({ database: test.database });
    await memory.recordEpisodes(Array.from({ length: 200 }, (_, index) => turn('import', index)));
    expect(await analyzedRows()).toBe(307);
    // Imported again: nothing written, nothing to analyze.
    await memory.recordEpisodes(Array.from({ length: 200 }, (_, index) => turn('import', index)));
    expect(await analyzedRows()).toBe(307);
  });

  it('a failed ANALYZE fails no write: the rows are kept and the next write analyzes', async () => {
    const memory = await createMemory({ database: test.database });
    // ANALYZE names both tables: with one of them away it fails.
    await sql`alter table memory_facts rename to memory_facts_away`.execute(test.database.kysely);
    try {
      await memory.recordEpisodes(Array.from({ length: 100 }, (_, index) => turn('failing', index)));
    } finally {
      await sql`alter table memory_facts_away rename to memory_facts`.execute(test.database.kysely);
    }
    expect(await analyzedRows()).toBe(307);
    const stored = await sql<{ rows: number }>`select count(*)::int as rows from memory_episodes
      where user_id = 'failing'`.execute(test.database.kysely);
    expect(stored.rows[0]?.rows).toBe(100);
    await memory.recordEpisode(turn('failing', 100));
    expect(await analyzedRows()).toBe(408);
  });
});
