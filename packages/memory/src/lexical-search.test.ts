import { openTestPglite, type TestPglite } from '@agentrix/store/testing';
import { type CompiledQuery, type QueryExecutorProvider, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lexicalSearch, lexicalSearches, SCOPE_SCAN_ROWS, searchStatistics } from './lexical-search.js';
import { createMemory } from './memory.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

// The plan of one user's search among many users who say the same name: read the user's rows,
// not the GIN index's matches of every user, and not the whole table again for the columns.
describe('lexicalSearch plans on PGlite', () => {
  let test: TestPglite;

  beforeAll(async () => {
    test = await openTestPglite();
    const memory = await createMemory({ database: test.database });
    const turns = (scope: { userId?: string; agentId?: string }, count: number) =>
      Array.from({ length: count }, (_, index) => ({
        scope,
        messageId: `${scope.userId ?? scope.agentId}-${index}`,
        messages: [{ role: 'user' as const, name: 'Evan', content: `Evan here, day ${index}, the weather was fine.` }],
      }));
    // One import, one ANALYZE after it: an agent's memory of no user (the planner took half the
    // table to be in Ana's scope), other users, then Ana.
    await memory.recordEpisodes([
      // More than SCOPE_SCAN_ROWS: matched through the GIN index.
      ...turns({ agentId: 'shared' }, 1600),
      ...Array.from({ length: 4 }, (_, user) => turns({ userId: `other-${user}` }, 250)).flat(),
      ...turns({ userId: 'ana' }, 40),
      {
        scope: { userId: 'ana' },
        messageId: 'dog',
        messages: [{ role: 'user', name: 'Evan', content: 'I adopted a beagle from the shelter.' }],
      },
    ]);
  }, 30_000);
  afterAll(async () => {
    await test?.dispose();
  });

  it("estimates a user's scope by its rows, not by the agent's rows of no user", async () => {
    const explained = await sql<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>`explain (format json)
      select id from memory_episodes where user_id = any(${['', 'ana']}::text[]) and agent_id = ''`.execute(
      test.database.kysely,
    );
    // 41 rows: without statistics of the two columns together, 1,041 / 2,041 x 1,041 = ~530.
    expect(explained.rows[0]!['QUERY PLAN'][0]!.Plan['Plan Rows']).toBeLessThan(100);
  });

  /** Runs `search` on a provider that explains each ranking statement first; returns the plans and every statement. */
  async function explained<T>(search: (db: QueryExecutorProvider) => Promise<T>) {
    const plans: PlanNode[] = [];
    const statements: string[] = [];
    const parameters: unknown[][] = [];
    const executor = test.database.kysely.getExecutor();
    const explaining: QueryExecutorProvider = {
      getExecutor: () =>
        new Proxy(executor, {
          get: (target, name) => (name === 'executeQuery' ? executeQuery : Reflect.get(target, name).bind(target)),
        }),
    };
    async function executeQuery(query: CompiledQuery) {
      statements.push(query.sql);
      parameters.push([...query.parameters]);
      if (query.sql.includes('with matching')) {
        const result = await executor.executeQuery<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>({
          ...query,
          sql: `explain (format json) ${query.sql}`,
        });
        plans.push(result.rows[0]!['QUERY PLAN'][0]!.Plan);
      }
      return executor.executeQuery(query);
    }
    return { result: await search(explaining), plans, statements, parameters };
  }

  const episodes = (db: QueryExecutorProvider, scope: { userId?: string; agentId?: string }, query: string) =>
    lexicalSearch<{ text: string }>(db, {
      table: 'memory_episodes',
      columns: sql`t.text`,
      scope,
      query,
      limit: 5,
      tieBreak: sql`t.occurred_at`,
    });
  const indexes = (plan: PlanNode) => nodes(plan).map((node) => node['Index Name']);

  it("reads the scope's rows and never the whole table", async () => {
    const { result, plans } = await explained((db) => episodes(db, { userId: 'ana' }, 'Which dog did Evan adopt?'));
    expect(result[0]?.text).toBe('Evan: I adopted a beagle from the shelter.');
    expect(plans).toHaveLength(1);
    const scans = nodes(plans[0]!).filter((node) => node['Relation Name'] === 'memory_episodes');
    expect(scans.map((node) => node['Node Type'])).not.toContain('Seq Scan');
    expect(indexes(plans[0]!)).not.toContain('memory_episodes_search');
  });

  // A small scope is matched row by row, whose cost does not depend on the words' matches in other
  // scopes; a large one through the index.
  it('matches a small scope row by row, a large one through the GIN index', async () => {
    const small = await explained((db) => episodes(db, { userId: 'ana' }, 'beagle'));
    expect(small.result.map((row) => row.text)).toEqual(['Evan: I adopted a beagle from the shelter.']);
    expect(indexes(small.plans[0]!)).not.toContain('memory_episodes_search');
    // The planner's pick at 100,000 rows (bench/memory) whatever the scope: the function keeps it off the index.
    const scan = small.statements.find((statement) => statement.includes('with matching'));
    expect(scan).toContain('ts_match_vq(');
    // Fewer rows than MAX_CANDIDATES: no pre-ranking by ts_rank to cut them.
    expect(scan).not.toContain('ts_rank(');
    const large = await explained((db) => episodes(db, { agentId: 'shared' }, 'Evan day 7 weather'));
    expect(large.result[0]?.text).toBe('Evan: Evan here, day 7, the weather was fine.');
    const ranking = large.statements.find((statement) => statement.includes('with matching'));
    expect(ranking).toContain('@@');
    expect(ranking).not.toContain('ts_match_vq(');
    expect(SCOPE_SCAN_ROWS).toBeLessThan(1600);
  });

  // A large scope's candidates are the matches of its rarest words while they add up to at most
  // 2,000 rows: "7" is in one row of the agent's 1,600 ("day 17" is "17"), "day", "Evan" and
  // "weather" in all of them, so "7" and one of the others (by name) are matched, not all four.
  it("scores a large scope's matches of its rarest words only, and never counts its rows", async () => {
    const { result, statements, parameters } = await explained((db) =>
      episodes(db, { agentId: 'shared' }, 'Evan day 7 weather'),
    );
    expect(result[0]?.text).toBe('Evan: Evan here, day 7, the weather was fine.');
    const ranking = statements.findIndex((statement) => statement.includes('with matching'));
    expect(parameters[ranking]).toContain("'7' | 'day'");
    // No statement reads the scope for its size: the statistics tables say it.
    expect(statements.filter((statement) => /count\(/.test(statement))).toEqual([]);
  });

  it('searches several queries with one statistics statement, each list as lexicalSearch gives it', async () => {
    const queries = ['Which dog did Evan adopt?', 'beagle shelter', 'the of and', 'weather day 7'];
    const options = {
      table: 'memory_episodes' as const,
      columns: sql`t.text`,
      scope: { userId: 'ana' },
      tieBreak: sql`t.occurred_at`,
    };
    // Every match (at most 41), sorted: rows of equal score may come in any order.
    const sorted = (rows: Array<{ text: string; score: number }>) =>
      rows.map(({ text, score }) => `${score.toFixed(9)} ${text}`).sort();
    const { result, statements } = await explained((db) =>
      lexicalSearches<{ text: string }>(db, {
        ...options,
        queries: queries.map((query) => ({ query, limit: 50 })),
      }),
    );
    for (const [index, query] of queries.entries()) {
      const alone = await lexicalSearch<{ text: string }>(test.database.kysely, {
        ...options,
        query,
        limit: 50,
      });
      expect(sorted(result[index]!)).toEqual(sorted(alone));
    }
    expect(result[0]![0]?.text).toBe('Evan: I adopted a beagle from the shelter.');
    expect(result[2]).toEqual([]); // stop words only: no search statement
    expect(statements).toHaveLength(1 + 3);
  });

  it('asks no ranking statement of an empty scope', async () => {
    const { result, statements } = await explained((db) =>
      lexicalSearch(db, {
        table: 'memory_facts',
        columns: sql`t.text`,
        scope: { userId: 'ana' },
        query: 'Which dog did Evan adopt?',
        limit: 5,
        tieBreak: sql`t.updated_at`,
      }),
    );
    expect(result).toEqual([]);
    expect(statements).toHaveLength(1);
  });

  // Last: it writes a fact into Ana's scope, which the test above reads empty.
  it("reads the statistics of a retrieve's facts and episodes in one statement, as each alone", async () => {
    await sql`insert into memory_facts (id, user_id, key, text, created_at, updated_at)
      values ('f-beagle', 'ana', 'pet', 'Ana walks the beagle Evan adopted', 0, 0)`.execute(test.database.kysely);
    const scope = { userId: 'ana' };
    const episodeQueries = ['Which dog did Evan adopt?', 'the of and', 'weather day 7'];
    const { result, statements } = await explained((db) =>
      searchStatistics(db, scope, [
        { table: 'memory_facts', queries: ['Which dog did Evan adopt?'] },
        { table: 'memory_episodes', queries: episodeQueries },
      ]),
    );
    expect(statements).toHaveLength(1);
    const [facts] = await searchStatistics(test.database.kysely, scope, [
      { table: 'memory_facts', queries: ['Which dog did Evan adopt?'] },
    ]);
    const [episodes] = await searchStatistics(test.database.kysely, scope, [
      { table: 'memory_episodes', queries: episodeQueries },
    ]);
    expect(result).toEqual([facts, episodes]);
    expect(facts![0]).toMatchObject({ rows: 1, terms: [{ lexeme: 'adopt' }, { lexeme: 'evan' }] });
    expect(episodes![1]!.terms).toEqual([]); // stop words only
    expect(episodes![0]!.rows).toBeGreaterThan(1);
  });
});
