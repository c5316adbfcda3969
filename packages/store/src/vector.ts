import { invalidArgument } from '@agentrix/core/implement';
import { type Expression, type QueryExecutorProvider, type RawBuilder, type SqlBool, sql } from 'kysely';
import type { Database } from './database.js';
import { storeError } from './errors.js';

/**
 * The column type for embeddings of `dimensions` numbers: `vector(n)` with pgvector, else
 * `real[]` (searched by brute force). Use it in migrations: the type is decided when the table
 * is created, so a database that gains pgvector later keeps the fallback until migrated.
 */
export function vectorColumnType(database: Pick<Database, 'hasVector'>, dimensions: number): RawBuilder<unknown> {
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 16_000) {
    throw invalidArgument(`Invalid vector dimensions ${dimensions}: expected an integer from 1 to 16000`);
  }
  return sql.raw(database.hasVector ? `vector(${dimensions})` : 'real[]');
}

/** A value to insert into a column made with {@link vectorColumnType}. */
export function toVector(database: Pick<Database, 'hasVector'>, embedding: readonly number[]): RawBuilder<unknown> {
  const values = checkEmbedding(embedding);
  return database.hasVector ? sql`${`[${values.join(',')}]`}::vector` : sql`${`{${values.join(',')}}`}::real[]`;
}

/**
 * In a migration: an HNSW index for cosine distance on a column made with
 * {@link vectorColumnType}, named `<table>_<column>_hnsw`. Without pgvector the column is
 * `real[]`, searched by brute force, and nothing is created (false).
 */
export async function createVectorIndex(
  db: QueryExecutorProvider,
  database: Pick<Database, 'hasVector'>,
  options: { table: string; column: string },
): Promise<boolean> {
  if (!database.hasVector) return false;
  await sql`create index if not exists ${sql.id(`${options.table}_${options.column}_hnsw`)}
    on ${sql.table(options.table)} using hnsw (${sql.ref(options.column)} vector_cosine_ops)`.execute(db);
  return true;
}

/** Whether the loaded pgvector has iterative index scans (0.8.0 and later), per database. */
const iterativeScans = new WeakMap<Database, Promise<boolean>>();

function hasIterativeScan(database: Database): Promise<boolean> {
  let known = iterativeScans.get(database);
  if (!known) {
    known = sql<{ version: string }>`select extversion as version from pg_extension where extname = 'vector'`
      .execute(database.kysely)
      .then((result) => {
        const [major = 0, minor = 0] = (result.rows[0]?.version ?? '0').split('.').map(Number);
        return major > 0 || minor >= 8;
      });
    iterativeScans.set(database, known);
  }
  return known;
}

export interface VectorSearchOptions {
  /** The table (unqualified: found through the search path). */
  table: string;
  /** The embedding column, made with {@link vectorColumnType}. */
  column: string;
  /** The query embedding. */
  embedding: readonly number[];
  /** Most rows to return. Default 10. */
  limit?: number;
  /** Extra condition on the table's rows (alias `t`), e.g. sql`t.agent_id = ${agentId}`. */
  where?: Expression<SqlBool>;
  /** Columns to return. Default: all of them. */
  columns?: readonly string[];
  /**
   * Compare every row that passes `where` instead of walking the HNSW index: exact, and faster
   * when `where` keeps few rows (an index scan visits ~limit / selectivity rows to find `limit`
   * that pass). Default false. Without pgvector every search is exact.
   */
  exact?: boolean;
}

/** A row of a vector search with its cosine distance (0 = same direction, 2 = opposite). */
export type VectorMatch<Row> = Row & { distance: number };

/**
 * The rows nearest to `embedding` by cosine distance, nearest first. With pgvector this is
 * `column <=> embedding` and uses an HNSW index when there is one ({@link createVectorIndex}):
 * an approximate search, which with `where` scans the index on until it has `limit` rows that
 * pass (pgvector 0.8 iterative scans; an older pgvector scans the table in order instead, since
 * its index would return the nearest rows of any scope and then filter most of them out).
 * Without pgvector the same ordering is computed by brute force over the `real[]` column, fine
 * for tens of thousands of rows. Rows with a zero or missing embedding are left out, and a zero
 * `embedding` finds nothing (its cosine distance is undefined). A column named `distance` is shadowed.
 */
export async function vectorSearch<Row = Record<string, unknown>>(
  database: Database,
  options: VectorSearchOptions,
): Promise<VectorMatch<Row>[]> {
  const limit = options.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1)
    throw invalidArgument(`vectorSearch limit must be a positive integer, got ${limit}`);
  const column = sql.ref(`t.${options.column}`);
  const selected =
    options.columns === undefined ? sql.raw('t.*') : sql.join(options.columns.map((name) => sql.ref(`t.${name}`)));
  const where = options.where ?? sql<SqlBool>`true`;
  const query = toVector(database, options.embedding);
  // A zero query is near nothing: its cosine is undefined (pgvector says NaN for every row).
  if (options.embedding.every((value) => value === 0)) return [];
  const statement = database.hasVector
    ? sql<VectorMatch<Row>>`select ${selected}, (${column} <=> ${query})::float8 as distance
        from ${sql.table(options.table)} as t
        where ${where} and ${column} is not null and (${column} <=> ${query}) <> 'NaN'::float8
        order by ${column} <=> ${query}
        limit ${limit}`
    : sql<VectorMatch<Row>>`select * from (
          select ${selected}, (
            select (1 - sum(u.x * u.y) / nullif(sqrt(sum(u.x * u.x)) * sqrt(sum(u.y * u.y)), 0))::float8
            from unnest(${column}, ${query}) as u(x, y)
          ) as distance
          from ${sql.table(options.table)} as t
          where ${where} and ${column} is not null
        ) as scored
        where distance is not null
        order by distance
        limit ${limit}`;
  try {
    // Asked before the transaction: PGlite has one connection, which the transaction holds.
    const iterative = database.hasVector && !options.exact && (await hasIterativeScan(database));
    const result = database.hasVector
      ? await database.kysely.transaction().execute(async (trx) => {
          // Settings local to this transaction: an index scan keeps going until `limit` rows pass `where`.
          if (iterative && !options.exact) await sql`set local hnsw.iterative_scan = relaxed_order`.execute(trx);
          else await sql`set local enable_indexscan = off`.execute(trx);
          return statement.execute(trx);
        })
      : await statement.execute(database.kysely);
    // relaxed_order may return neighbours slightly out of order.
    return result.rows
      .map((row) => ({ ...row, distance: Number(row.distance) }))
      .sort((a, b) => a.distance - b.distance);
  } catch (error) {
    throw storeError(error, `vector search on ${options.table}.${options.column}`);
  }
}

function checkEmbedding(embedding: readonly number[]): readonly number[] {
  if (!Array.isArray(embedding) || embedding.length === 0 || !embedding.every((value) => Number.isFinite(value))) {
    throw invalidArgument('An embedding must be a non-empty array of finite numbers');
  }
  return embedding;
}
