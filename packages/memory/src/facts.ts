/**
 * Semantic memory: the `memory_facts` table, one fact per key in a scope. Writing (validate and
 * embed, then upsert, then report), reading one fact, deleting one, and searching them.
 */
import { throwIfAborted } from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';
import { toVector } from '@agentrix/store';
import { type QueryExecutorProvider, type RawBuilder, sql } from 'kysely';
import { lexicalSearch, type QueryStatistics } from './lexical-search.js';
import type { MemoryContext } from './memory-context.js';
import { embedForWrite, rankByVector } from './memory-embeddings.js';
import type { RememberInput } from './memory-options.js';
import { reciprocalRankFusion } from './rank-fusion.js';
import { FACT_COLUMNS, type Fact, type FactRow, toFact } from './records.js';
import { type MemoryQueryScope, type MemoryScope, type ScopeColumns, scopeColumns } from './scope.js';
import { normalizeText, truncateText } from './text.js';

/** A fact validated and embedded, ready to be upserted (in a transaction of its own or an episode's). */
export interface PreparedFact {
  columns: ScopeColumns;
  key: string;
  text: string;
  truncated: boolean;
  tags: string[];
  sourceEpisodeId: string | undefined;
  /** Undefined when there is no embedder, it failed, or the stored embedding still fits. */
  embedding: number[] | undefined;
  keepEmbedding: boolean;
}

export interface WrittenFact {
  fact: Fact;
  updated: boolean;
  truncated: boolean;
}

/** Validates a fact and embeds it unless its stored embedding still fits: the work before its write. */
export async function prepareFact(context: MemoryContext, input: RememberInput): Promise<PreparedFact> {
  if (typeof input?.key !== 'string' || input.key.length === 0 || input.key.length > 200) {
    throw invalidArgument('remember needs a key of 1 to 200 characters, like "user.favourite_color"');
  }
  if (typeof input.text !== 'string' || input.text.trim().length === 0) {
    throw invalidArgument(`remember needs a non-empty text for key "${input.key}"`);
  }
  throwIfAborted(input.signal, 'remember');
  const scope = input.scope ?? {};
  const columns = scopeColumns(scope);
  const { text, truncated } = truncateText(input.text, context.maxText);
  const existing = await sql<{ text: string; embedded: boolean }>`select text, ${
    context.column ? sql`${sql.ref(context.column)} is not null` : sql`false`
  } as embedded from memory_facts where user_id = ${columns.user_id} and agent_id = ${columns.agent_id}
    and thread_id = ${columns.thread_id} and namespace = ${columns.namespace} and key = ${input.key}`.execute(
    context.database.kysely,
  );
  const before = existing.rows[0];
  const keepEmbedding = before !== undefined && before.text === text && before.embedded;
  const embedding = keepEmbedding
    ? undefined
    : await embedForWrite(context, `${input.key}: ${text}`, scope, input.signal);
  return {
    columns,
    key: input.key,
    text,
    truncated,
    tags: input.tags ?? [],
    sourceEpisodeId: input.sourceEpisodeId,
    embedding,
    keepEmbedding,
  };
}

/** Inserts a fact or updates the one with its key in its scope (keeping its id). */
export async function upsertFact(
  context: MemoryContext,
  db: QueryExecutorProvider,
  fact: PreparedFact,
): Promise<WrittenFact> {
  const { columns } = fact;
  const { column } = context;
  const now = context.clock.now();
  const embeddingValue: RawBuilder<unknown> =
    fact.embedding === undefined ? sql`null` : toVector(context.database, fact.embedding);
  const embeddingInsert = column ? sql`, ${sql.ref(column)}` : sql``;
  const embeddingValues = column ? sql`, ${embeddingValue}` : sql``;
  const embeddingUpdate =
    column && !fact.keepEmbedding ? sql`, ${sql.ref(column)} = excluded.${sql.ref(column)}` : sql``;
  const result = await sql<FactRow & { inserted: boolean }>`insert into memory_facts
      (id, user_id, agent_id, thread_id, namespace, key, text, truncated, tags, source_episode_id, created_at,
        updated_at${embeddingInsert})
    values (${context.generateId()}, ${columns.user_id}, ${columns.agent_id}, ${columns.thread_id}, ${columns.namespace},
      ${fact.key}, ${fact.text}, ${fact.truncated}, ${JSON.stringify(fact.tags)}::jsonb, ${fact.sourceEpisodeId ?? null},
      ${now}, ${now}${embeddingValues})
    on conflict (user_id, agent_id, namespace, thread_id, key) do update set
      text = excluded.text, truncated = excluded.truncated, tags = excluded.tags,
      source_episode_id = coalesce(excluded.source_episode_id, memory_facts.source_episode_id),
      updated_at = excluded.updated_at${embeddingUpdate}
    returning ${sql.join(FACT_COLUMNS.map((name) => sql.ref(name)))}, (xmax = 0) as inserted`.execute(db);
  const row = result.rows[0]!;
  return { fact: toFact(row), updated: !row.inserted, truncated: fact.truncated };
}

/**
 * Orders facts by their unique key (scope, then key) in byte order: a transaction writing several
 * facts in this order locks their rows in the order of any other (and of forgetting.ts), so two
 * cannot deadlock.
 */
export function byFactKey(
  a: { columns: ScopeColumns; key: string },
  b: { columns: ScopeColumns; key: string },
): number {
  // UTF-8 bytes, joined by NUL (which no text column holds): the order of `collate "C"` in SQL.
  const key = ({ columns, key }: { columns: ScopeColumns; key: string }) =>
    Buffer.from([columns.user_id, columns.agent_id, columns.namespace, columns.thread_id, key].join('\u0000'));
  return Buffer.compare(key(a), key(b));
}

/** Reports a written fact as `memory.fact-written`. */
export function factWritten(context: MemoryContext, { fact, updated, truncated }: WrittenFact): void {
  context.events.emit('memory.fact-written', {
    id: fact.id,
    key: fact.key,
    scope: fact.scope,
    updated,
    truncated,
  });
}

/** The fact stored under `key` in exactly this scope, if any. */
export async function getFact(context: MemoryContext, scope: MemoryScope, key: string): Promise<Fact | undefined> {
  const columns = scopeColumns(scope);
  const result = await sql<FactRow>`select ${sql.join(FACT_COLUMNS.map((name) => sql.ref(name)))} from memory_facts
    where user_id = ${columns.user_id} and agent_id = ${columns.agent_id} and thread_id = ${columns.thread_id}
    and namespace = ${columns.namespace} and key = ${key}`.execute(context.database.kysely);
  return result.rows[0] ? toFact(result.rows[0]) : undefined;
}

/** Deletes one fact; true when it existed. */
export async function forgetFact(context: MemoryContext, scope: MemoryScope, key: string): Promise<boolean> {
  const columns = scopeColumns(scope);
  const result = await sql`delete from memory_facts where user_id = ${columns.user_id}
    and agent_id = ${columns.agent_id} and thread_id = ${columns.thread_id} and namespace = ${columns.namespace}
    and key = ${key}`.execute(context.database.kysely);
  return Number(result.numAffectedRows ?? 0) > 0;
}

/**
 * The top `limit` facts `scope` may see for `query`: full-text search ranked by BM25 (see
 * {@link lexicalSearch}, with `statistics` read before when given) fused by reciprocal rank with vector similarity when an embedder is
 * configured, then de-duplicated by normalized text.
 */
export async function searchFacts(
  context: MemoryContext,
  scope: MemoryQueryScope,
  query: string,
  limit: number,
  signal: AbortSignal | undefined,
  statistics?: QueryStatistics,
): Promise<{ facts: Array<Fact & { score: number }>; vector: boolean }> {
  const candidates = Math.max(limit * 3, 20);
  const textRanked = await lexicalSearch<FactRow>(
    context.database,
    {
      table: 'memory_facts',
      columns: sql.join(FACT_COLUMNS.map((name) => sql.ref(`t.${name}`))),
      scope,
      query,
      limit: candidates,
      tieBreak: sql`t.updated_at`,
    },
    statistics,
  );
  const vectorRanked = await rankByVector<FactRow>(
    context,
    'memory_facts',
    FACT_COLUMNS,
    scope,
    query,
    candidates,
    signal,
  );
  const fused = reciprocalRankFusion([textRanked, vectorRanked ?? []], (row) => row.id);
  const seen = new Set<string>();
  const facts: Array<Fact & { score: number }> = [];
  for (const row of fused) {
    const normalized = normalizeText(row.text);
    if (seen.has(normalized)) continue;
    seen.add(normalized);
    facts.push({ ...toFact(row), score: row.score });
    if (facts.length >= limit) break;
  }
  return { facts, vector: vectorRanked !== undefined };
}
