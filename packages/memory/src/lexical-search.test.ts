import { openTestPglite, type TestPglite } from '@agentrix/store/testing';
import { type CompiledQuery, type QueryExecutorProvider, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lexicalSearch } from './lexical-search.js';
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
      ...turns({ agentId: 'shared' }, 1000),
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

  it("reads the scope's rows and never the whole table", async () => {
    const plans: PlanNode[] = [];
    const db = test.database.kysely;
    const executor = db.getExecutor();
    // The search's statements as they run, each explained first.
    const explaining: QueryExecutorProvider = {
      getExecutor: () =>
        new Proxy(executor, {
          get: (target, name) => (name === 'executeQuery' ? executeQuery : Reflect.get(target, name).bind(target)),
        }),
    };
    async function executeQuery(query: CompiledQuery) {
      if (query.sql.includes('ts_rank')) {
        const explained = await executor.executeQuery<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>({
          ...query,
          sql: `explain (format json) ${query.sql}`,
        });
        plans.push(explained.rows[0]!['QUERY PLAN'][0]!.Plan);
      }
      return executor.executeQuery(query);
    }
    const found = await lexicalSearch<{ text: string }>(explaining, {
      table: 'memory_episodes',
      columns: sql`t.text`,
      scope: { userId: 'ana' },
      query: 'Which dog did Evan adopt?',
      limit: 5,
      tieBreak: sql`t.occurred_at`,
    });
    expect(found[0]?.text).toBe('Evan: I adopted a beagle from the shelter.');
    expect(plans).toHaveLength(1);
    const scans = nodes(plans[0]!).filter((node) => node['Relation Name'] === 'memory_episodes');
    expect(scans.map((node) => node['Node Type'])).not.toContain('Seq Scan');
    expect(nodes(plans[0]!).map((node) => node['Index Name'])).not.toContain('memory_episodes_search');
  });
});
