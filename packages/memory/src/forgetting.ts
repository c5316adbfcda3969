/**
 * Forgetting a user or a thread: deleting their facts and episodes in one transaction.
 */
import { invalidArgument } from '@agentrix/core/implement';
import { sql } from 'kysely';
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
    const facts = await sql`delete from memory_facts where user_id = ${column}`.execute(trx);
    const episodes = await sql`delete from memory_episodes where user_id = ${column}`.execute(trx);
    return { facts: Number(facts.numAffectedRows ?? 0), episodes: Number(episodes.numAffectedRows ?? 0) };
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
    const facts = await sql`delete from memory_facts where agent_id = ${columns.agent_id} and (
        thread_id = ${columns.thread_id} or source_episode_id in (select id from memory_episodes
          where agent_id = ${columns.agent_id} and thread_id = ${columns.thread_id}))`.execute(trx);
    const episodes = await sql`delete from memory_episodes where agent_id = ${columns.agent_id}
      and thread_id = ${columns.thread_id}`.execute(trx);
    return { facts: Number(facts.numAffectedRows ?? 0), episodes: Number(episodes.numAffectedRows ?? 0) };
  });
}
