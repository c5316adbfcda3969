/**
 * Forgetting a user or a thread: deleting their facts and episodes in one transaction.
 */
import { invalidArgument } from '@agentrix/core/implement';
import { type QueryExecutorProvider, type RawBuilder, type SqlBool, sql } from 'kysely';
import type { MemoryContext } from './memory-context.js';
import { scopeColumns } from './scope.js';

/** What `Memory.forgetUser` or `Memory.forgetThread` deleted. */
export interface ForgetResult {
  facts: number;
  episodes: number;
}

/** Deletes every fact and episode of a user, in every agent and namespace, in one transaction. */
export async function forgetUser(context: MemoryContext, userId: string): Promise<ForgetResult> {
  const column = scopeColumns({ userId }).user_id;
  const result = await context.database.kysely.transaction().execute(async (trx) => {
    const episodes = await deleteEpisodes(trx, sql`user_id = ${column}`);
    const facts = await deleteFacts(trx, sql`user_id = ${column}`);
    return { facts, episodes: episodes.length };
  });
  context.events.emit('memory.forgotten', { userId, ...result });
  return result;
}

/**
 * Deletes one conversation's episodes, the facts they taught and the facts kept for that thread
 * only, in one transaction; facts taught again in another thread since stay (see `Memory.forgetThread`).
 */
export async function forgetThread(
  context: MemoryContext,
  scope: { agentId: string; threadId: string },
): Promise<ForgetResult> {
  if (scope?.agentId === undefined || scope.threadId === undefined) {
    throw invalidArgument(
      `forgetThread needs { agentId, threadId }, got ${JSON.stringify(scope)}: forget every thread of a user with forgetUser`,
    );
  }
  const columns = scopeColumns(scope);
  return context.database.kysely.transaction().execute(async (trx) => {
    const episodes = await deleteEpisodes(
      trx,
      sql`agent_id = ${columns.agent_id} and thread_id = ${columns.thread_id}`,
    );
    const facts = await deleteFacts(
      trx,
      sql`agent_id = ${columns.agent_id} and (thread_id = ${columns.thread_id} or source_episode_id = any(${episodes}::text[]))`,
    );
    return { facts, episodes: episodes.length };
  });
}

// Rows are locked in one pass a table, each in one order, before they are deleted: episodes (by
// id), then facts by their unique key in byte order, the order a turn writes its facts in
// (`byFactKey`). A turn only inserts episodes, so no forget and no turn can hold a row the other
// waits for in the other order. Deleted in plain scan order, or locked by two statements (new rows
// committed between sort anywhere), forgetThread and turns deadlocked (statistics-concurrency.int.test.ts).

/** Deletes the episodes `where` selects, locked in id order; returns their ids. */
async function deleteEpisodes(trx: QueryExecutorProvider, where: RawBuilder<SqlBool>): Promise<string[]> {
  const result = await sql<{ id: string }>`with locked as materialized (
      select id from memory_episodes where ${where} order by id collate "C" for update
    ) delete from memory_episodes e using locked l where e.id = l.id returning e.id`.execute(trx);
  return result.rows.map((row) => row.id);
}

/** Deletes the facts `where` selects, locked in the order of their unique key; returns their count. */
async function deleteFacts(trx: QueryExecutorProvider, where: RawBuilder<SqlBool>): Promise<number> {
  const result = await sql`with locked as materialized (
      select id from memory_facts where ${where} order by user_id collate "C", agent_id collate "C",
        namespace collate "C", thread_id collate "C", key collate "C" for update
    ) delete from memory_facts f using locked l where f.id = l.id`.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}
