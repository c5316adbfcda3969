import { openTestPostgres, type TestPostgres } from '@agentrix/store/testing';
import { MockLLM } from '@agentrix/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemory } from './memory.js';
import { statisticsDrift } from './statistics-drift.js';

const url = process.env.DATABASE_URL;
const WRITERS = 8;
const ROUNDS = 30;
const THREADS = 4;
const WORDS = ['kayak', 'lake', 'fjord', 'ferry', 'harbour', 'island', 'glacier', 'summit'];

/** The words rotated by `by`, forwards or backwards: writers name the same words in different orders. */
const phrase = (by: number, backwards: boolean) => {
  const words = WORDS.map((_, index) => WORDS[(index + by) % WORDS.length]!);
  return (backwards ? words.reverse() : words).join(' ');
};

/**
 * A summary with two stable facts of the turn's writer, written in key order (gear, then route):
 * a backwards turn gives the first one the words a forwards turn gives the second, so two turns
 * of one thread reach the same statistics rows in opposite orders.
 */
const summarize = (text: string) => {
  const backwards = text.includes('backwards');
  const writer = /writer (\d+)/.exec(text)?.[1] ?? 'x';
  const [first, second] = [WORDS.slice(0, 4).join(' '), WORDS.slice(4).join(' ')];
  const facts = [
    { key: `w${writer}.gear`, text: `Gear for ${backwards ? second : first}` },
    { key: `w${writer}.route`, text: `Route by ${backwards ? first : second}` },
  ];
  return JSON.stringify({
    topic: 'Trip',
    conclusions: [text],
    actionItems: [],
    openItems: [],
    parameters: {},
    tags: [],
    stableFacts: facts,
  });
};

describe.skipIf(!url)("BM25's statistics under concurrent writers on Postgres", () => {
  let postgres: TestPostgres;
  beforeAll(async () => {
    postgres = await openTestPostgres(url!);
  });
  afterAll(async () => {
    await postgres?.dispose();
  });

  // With the statistics updated by each statement (ordered within it only) this failed in every
  // run with "deadlock detected" (40P01) on memory_scope_statistics: a forgetUser locking the
  // user's scopes in its plan's order beside a statement writing them in key order. With forget
  // deleting facts before episodes (a turn writes episodes first) and facts written in any order,
  // it also failed on memory_facts' own rows.
  it('lets turns, fact updates and forgotten threads of one scope run at once without deadlock', async () => {
    const { database } = postgres;
    const model = new MockLLM({
      fallback: (request) => ({ text: summarize(request.messages.map((message) => message.content).join('\n')) }),
    });
    const memory = await createMemory({ database, model });
    const plain = await createMemory({ database, migrate: false });
    const agentId = 'agent-race';
    const writer = async (index: number) => {
      for (let round = 0; round < ROUNDS; round++) {
        // Writers 2k and 2k + 1 share a thread and name its words in opposite orders.
        const backwards = index % 2 === 1;
        const thread = (round + Math.floor(index / 2)) % THREADS;
        await memory.recordEpisode({
          scope: { agentId, threadId: `t${thread}` },
          messageId: `w${index}-r${round}`,
          messages: [
            {
              role: 'user',
              content: `writer ${index} ${backwards ? 'backwards' : 'forwards'}: ${phrase(index, backwards)}`,
            },
          ],
        });
        await memory.remember({
          scope: { agentId },
          key: `plan.${round % 3}`,
          text: phrase(round + index, !backwards),
        });
        await memory.forgetThread({ agentId, threadId: `t${(thread + 2) % THREADS}` });
        // One statement writing a user's episodes in every thread (several statistics scopes at
        // once), beside another writer forgetting that user (deleting from all those scopes).
        const userId = `u${round % 2}`;
        if (index % 4 === 3) await memory.forgetUser(userId);
        else
          await plain.recordEpisodes(
            Array.from({ length: THREADS }, (_, at) => ({
              scope: { agentId, userId, threadId: `t${backwards ? THREADS - 1 - at : at}` },
              messageId: `w${index}-r${round}-${at}`,
              messages: [{ role: 'user' as const, content: phrase(at + round, backwards) }],
            })),
          );
      }
    };
    const results = await Promise.allSettled(Array.from({ length: WRITERS }, (_, index) => writer(index)));
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    expect(failures).toEqual([]);
    expect(await statisticsDrift(database)).toBe(0);
    // The agent's plans (no thread: never forgotten) are found by a word they all have.
    const { facts } = await memory.searchFacts({ agentId }, 'glacier', 10);
    expect(facts.length).toBeGreaterThan(0);
    expect(facts.every((fact) => fact.key.startsWith('plan.'))).toBe(true);
  }, 60_000);

  it("counts a transaction's writes at its commit, and none of a rolled-back one or savepoint", async () => {
    const { database } = postgres;
    await createMemory({ database });
    const documents = async (db: typeof database.kysely) =>
      Number(
        (
          await sql<{ documents: string }>`select coalesce(sum(documents), 0) as documents from memory_scope_statistics
            where source = 'memory_facts' and agent_id = 'agent-commit'`.execute(db)
        ).rows[0]!.documents,
      );
    const insert = (db: typeof database.kysely, key: string) =>
      sql`insert into memory_facts (id, agent_id, key, text, created_at, updated_at)
        values (${key}, 'agent-commit', ${key}, 'Paddles the kayak', 0, 0)`.execute(db);
    await database.kysely.transaction().execute(async (trx) => {
      // The transaction's first write rolled back to a savepoint: its mark goes with it.
      await sql`savepoint undone`.execute(trx);
      await insert(trx, 'undone');
      await sql`rollback to savepoint undone`.execute(trx);
      await insert(trx, 'kept');
      // Noted, not applied: the statistics rows are locked at commit only.
      expect(await documents(trx)).toBe(0);
    });
    expect(await documents(database.kysely)).toBe(1);
    await expect(
      database.kysely.transaction().execute(async (trx) => {
        await insert(trx, 'rolled-back');
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await documents(database.kysely)).toBe(1);
    expect(await statisticsDrift(database)).toBe(0);
  });

  it('counts again on a connection whose temporary table DISCARD ALL dropped', async () => {
    const { database } = postgres;
    const memory = await createMemory({ database });
    const scope = { agentId: 'agent-discard' };
    const insert = (db: typeof database.kysely, key: string) =>
      sql`insert into memory_facts (id, agent_id, key, text, created_at, updated_at)
        values (${`discard-${key}`}, 'agent-discard', ${key}, ${`Paddles the kayak ${key}`}, 0, 0)`.execute(db);
    // One connection: its first write makes the session's table, DISCARD ALL drops it.
    await database.kysely.connection().execute(async (connection) => {
      await insert(connection, 'before');
      await sql`discard all`.execute(connection);
      await insert(connection, 'after');
    });
    expect(await statisticsDrift(database)).toBe(0);
    const { facts } = await memory.searchFacts(scope, 'kayak', 5);
    expect(facts.map((fact) => fact.key).sort()).toEqual(['after', 'before']);
  });
});
