/**
 * Memory's calls to its embedder: for writes (a failure stores the row without an embedding) and
 * for vector search (a failure leaves full text alone). Each failure is reported as
 * `memory.embedder-failed`; an abort is thrown.
 */
import { serializeError } from '@agentrix/core';
import { vectorSearch } from '@agentrix/store';
import { sql } from 'kysely';
import type { MemoryContext } from './memory-context.js';
import { callScope, type MemoryQueryScope, type MemoryScope, scopeCondition } from './scope.js';

/** The gateway scope tag of memory's embedding calls (summaries use `memory.summary`). */
const EMBEDDING_TAG = 'memory.embedding';
/**
 * A scope of at most this many rows is compared row by row instead of through the HNSW index,
 * which has to walk ~limit / selectivity entries to find `limit` rows of one user among many.
 */
const EXACT_VECTOR_ROWS = 10_000;

/**
 * Embeddings of texts to write, in one embedder call; undefined without an embedder or when it
 * failed, and undefined for a text embedded as all zeros (no embedding is stored for it).
 */
export async function embedManyForWrite(
  context: MemoryContext,
  texts: readonly string[],
  scope: MemoryScope,
  signal: AbortSignal | undefined,
): Promise<Array<number[] | undefined> | undefined> {
  if (!context.embeddings || texts.length === 0) return undefined;
  try {
    const options = { scope: callScope(scope, EMBEDDING_TAG), ...(signal ? { signal } : {}) };
    return (await context.embeddings.embed(texts, options)).map((vector) => (isZero(vector) ? undefined : vector));
  } catch (error) {
    if (signal?.aborted) throw error;
    context.events.emit('memory.embedder-failed', {
      operation: 'write',
      texts: texts.length,
      error: serializeError(error),
    });
    return undefined;
  }
}

/** The embedding of one text to write; undefined without an embedder or when it failed. */
export async function embedForWrite(
  context: MemoryContext,
  text: string,
  scope: MemoryScope,
  signal: AbortSignal | undefined,
): Promise<number[] | undefined> {
  return (await embedManyForWrite(context, [text], scope, signal))?.[0];
}

/** Vector-ranked rows, or undefined when there is no embedder or it failed (full text carries on). */
export async function rankByVector<Row>(
  context: MemoryContext,
  table: string,
  columns: readonly string[],
  scope: MemoryQueryScope,
  query: string,
  limit: number,
  signal: AbortSignal | undefined,
): Promise<Row[] | undefined> {
  if (!context.embeddings || !context.column || query.trim() === '') return undefined;
  let embedding: number[];
  try {
    const options = { scope: callScope(scope, EMBEDDING_TAG), ...(signal ? { signal } : {}) };
    [embedding] = (await context.embeddings.embed([query], options)) as [number[]];
  } catch (error) {
    if (signal?.aborted) throw error;
    context.events.emit('memory.embedder-failed', { operation: 'query', texts: 1, error: serializeError(error) });
    return undefined;
  }
  const where = scopeCondition(scope);
  // The scope's size from the statistics kept on write (migration 0008): counting it read up to
  // 10,001 rows a search.
  const rows = await sql<{ rows: number }>`select coalesce(sum(s.documents), 0)::float8 as rows
    from memory_scope_statistics s where s.source = ${table} and ${scopeCondition(scope, 's')}`.execute(
    context.database.kysely,
  );
  return vectorSearch<Row>(context.database, {
    table,
    column: context.column,
    embedding,
    limit,
    where,
    columns,
    exact: Number(rows.rows[0]?.rows ?? 0) <= EXACT_VECTOR_ROWS,
  });
}

/** True for a vector of zeros only (a zero norm). */
function isZero(vector: readonly number[]): boolean {
  return vector.every((value) => value === 0);
}
