import type { Database } from '@agentrix/store';
import { sql } from 'kysely';

/**
 * For tests: the rows of BM25's statistics tables (migration `0008_memory_term_statistics`) that
 * differ from a recount of `memory_episodes` and `memory_facts`, either way. 0 when they agree.
 */
export async function statisticsDrift(database: Database): Promise<number> {
  const recount = sql`
    select 'memory_episodes' as source, u.lexeme, t.user_id, t.agent_id, t.thread_id, t.namespace,
      count(*)::bigint as documents from memory_episodes t, unnest(t.search) u group by 1, 2, 3, 4, 5, 6
    union all
    select 'memory_facts', u.lexeme, t.user_id, t.agent_id, t.thread_id, t.namespace, count(*)::bigint
    from memory_facts t, unnest(t.search) u group by 1, 2, 3, 4, 5, 6`;
  const terms = sql`select source, lexeme, user_id, agent_id, thread_id, namespace, documents from memory_term_statistics`;
  const sizes = sql`
    select 'memory_episodes' as source, user_id, agent_id, thread_id, namespace, count(*)::bigint as documents,
      sum(search_length)::bigint as length from memory_episodes group by 1, 2, 3, 4, 5
    union all
    select 'memory_facts', user_id, agent_id, thread_id, namespace, count(*)::bigint, sum(search_length)::bigint
    from memory_facts group by 1, 2, 3, 4, 5`;
  const scopes = sql`select source, user_id, agent_id, thread_id, namespace, documents, length from memory_scope_statistics`;
  const differ = (a: typeof recount, b: typeof recount) =>
    sql`(select * from (${a}) a except all select * from (${b}) b)
      union all (select * from (${b}) b except all select * from (${a}) a)`;
  const result = await sql<{ terms: number; scopes: number }>`select
    (select count(*) from (${differ(recount, terms)}) d)::int as terms,
    (select count(*) from (${differ(sizes, scopes)}) d)::int as scopes`.execute(database.kysely);
  return Number(result.rows[0]!.terms) + Number(result.rows[0]!.scopes);
}
