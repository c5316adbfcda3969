import { invalidArgument } from '@agentrix/core/implement';
import { type RawBuilder, type SqlBool, sql } from 'kysely';

/**
 * Who a memory belongs to. A memory written with a `userId` is only seen by queries for that
 * user; one with an `agentId` only by that agent; one with a `namespace` (a team, a project) only
 * by queries that list that namespace. Fields left out mean "not tied to that": a fact written
 * with only `{ namespace: 'team' }` is seen by every user and agent that reads `team`.
 *
 * `threadId` is the conversation a memory was learnt in. A memory of a known user follows that
 * user into every thread (the thread only says where it came from); a memory with no user stays
 * in its thread, so a bot that serves many chats without user ids never shows one chat's memory
 * in another.
 */
export interface MemoryScope {
  userId?: string | undefined;
  agentId?: string | undefined;
  threadId?: string | undefined;
  namespace?: string | undefined;
}

/** What a retrieval may see: one user, one agent, one thread, and any number of shared namespaces. */
export interface MemoryQueryScope {
  userId?: string | undefined;
  agentId?: string | undefined;
  threadId?: string | undefined;
  namespaces?: readonly string[] | undefined;
}

export interface ScopeColumns {
  user_id: string;
  agent_id: string;
  thread_id: string;
  namespace: string;
}

const MAX_SCOPE_LENGTH = 256;

function column(value: string | undefined, name: string): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_SCOPE_LENGTH) {
    throw invalidArgument(
      `Invalid memory scope ${name}: expected a non-empty string of at most ${MAX_SCOPE_LENGTH} characters or undefined, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** The scope as stored: missing parts are ''. */
export function scopeColumns(scope: MemoryScope): ScopeColumns {
  return {
    user_id: column(scope.userId, 'userId'),
    agent_id: column(scope.agentId, 'agentId'),
    thread_id: column(scope.threadId, 'threadId'),
    namespace: column(scope.namespace, 'namespace'),
  };
}

/** The condition on a table aliased `t` selecting the rows `scope` may see. */
export function scopeCondition(scope: MemoryQueryScope, alias = 't'): RawBuilder<SqlBool> {
  const user = column(scope.userId, 'userId');
  const agent = column(scope.agentId, 'agentId');
  const thread = column(scope.threadId, 'threadId');
  const namespaces = [...new Set(scope.namespaces ?? [])].map((namespace) => column(namespace, 'namespace'));
  const ref = (name: string) => sql.ref(`${alias}.${name}`);
  const userCondition = user === '' ? sql`${ref('user_id')} = ''` : sql`${ref('user_id')} in ('', ${user})`;
  const agentCondition = agent === '' ? sql`${ref('agent_id')} = ''` : sql`${ref('agent_id')} in ('', ${agent})`;
  // A row with a user follows the user into every thread; one without stays in its thread.
  const threadCondition =
    thread === ''
      ? sql`(${ref('thread_id')} = '' or ${ref('user_id')} <> '')`
      : sql`(${ref('thread_id')} in ('', ${thread}) or ${ref('user_id')} <> '')`;
  const namespaceCondition =
    namespaces.length === 0
      ? sql`${ref('namespace')} = ''`
      : sql`${ref('namespace')} in ('', ${sql.join(namespaces.map((namespace) => sql`${namespace}`))})`;
  return sql<SqlBool>`(${userCondition} and ${agentCondition} and ${threadCondition} and ${namespaceCondition})`;
}

/**
 * The (user, agent) pairs whose rows `scope` may see: the rows of one pair are one range of the
 * `(user_id, agent_id, occurred_at, seq)` index, read newest first without a sort.
 */
export function scopeOwners(scope: MemoryQueryScope): Array<{ user_id: string; agent_id: string }> {
  const users = [...new Set(['', column(scope.userId, 'userId')])];
  const agents = [...new Set(['', column(scope.agentId, 'agentId')])];
  return users.flatMap((user_id) => agents.map((agent_id) => ({ user_id, agent_id })));
}

/**
 * The gateway scope of a call memory makes for `scope` (its user, agent and thread, so budgets
 * and the ledger see them), tagged with what the call is for (`memory.summary`, `memory.embedding`).
 */
export function callScope(
  scope: { userId?: string | undefined; agentId?: string | undefined; threadId?: string | undefined },
  tag: string,
): { agentId?: string; threadId?: string; userId?: string; tags: string[] } {
  return {
    ...(scope.agentId !== undefined ? { agentId: scope.agentId } : {}),
    ...(scope.threadId !== undefined ? { threadId: scope.threadId } : {}),
    ...(scope.userId !== undefined ? { userId: scope.userId } : {}),
    tags: [tag],
  };
}
