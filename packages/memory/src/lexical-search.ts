import { type QueryExecutorProvider, type RawBuilder, sql } from 'kysely';
import { TEXT_SEARCH_CONFIG } from './migrations.js';
import type { MemoryQueryScope } from './scope.js';
import { scopeCondition } from './scope.js';

/** BM25's term-frequency saturation and length normalisation (the usual values, Robertson et al.). */
const K1 = 1.2;
const B = 0.75;
/** Query words searched at most (a pasted document asks for its first words only). */
const MAX_QUERY_TERMS = 64;
/**
 * Matching rows scored by BM25 at most: beyond, the best by `ts_rank` (computed in C, no IDF).
 * A scope of 50,000 turns where a query's words matched 8-17k rows took 270-450 ms uncapped on
 * PGlite; a conversation of ~650 turns never reaches the cap, so its ranking is exact.
 */
const MAX_CANDIDATES = 2000;
/** Characters of a query searched at most. */
export const MAX_QUERY_LENGTH = 8000;

export interface LexicalSearchOptions {
  /** `memory_episodes` or `memory_facts`. */
  table: string;
  /** The columns to return, of the table aliased `t`. */
  columns: RawBuilder<unknown>;
  scope: MemoryQueryScope;
  query: string;
  limit: number;
  /** Orders equal scores (newest first). */
  tieBreak: RawBuilder<unknown>;
}

/**
 * The rows of `scope` that share a word with `query`, ranked by BM25 in SQL: each query lexeme
 * weighs by its inverse document frequency among the scope's rows (so a speaker's name, in half
 * of the turns, counts little and a rare word much), its count in the row saturates (k1 1.2),
 * and long rows are normalised by their length (`search_length`, distinct lexemes) against the
 * scope's average (b 0.75). Document frequencies are counted over the rows that match (every
 * row with a term matches), the row count over the scope: exact per scope up to
 * {@link MAX_CANDIDATES} matching rows, and no statistics table to keep up on write. Stop words and stemming are Postgres's `english` configuration.
 */
export async function lexicalSearch<Row>(
  db: QueryExecutorProvider,
  options: LexicalSearchOptions,
): Promise<Array<Row & { score: number }>> {
  const query = options.query.slice(0, MAX_QUERY_LENGTH);
  const table = sql.table(options.table);
  const scope = scopeCondition(options.scope);
  // `materialized` and the scalar subqueries build the query's tsquery once: inlined, Postgres
  // rebuilt it for every row of the scope (one user's 644 rows among 100,000: 21 ms -> 2.3 ms,
  // EXPLAIN ANALYZE on PGlite).
  const result = await sql<Row & { score: number }>`
    with terms as materialized (
      select distinct u.lexeme from unnest(to_tsvector(${TEXT_SEARCH_CONFIG}::regconfig, ${query})) u
      limit ${MAX_QUERY_TERMS}
    ),
    query as materialized (select string_agg(quote_literal(lexeme), ' | ')::tsquery as q from terms),
    matching as (
      select t.id, t.search, t.search_length from ${table} t
      where ${scope} and t.search @@ (select q from query)
      order by ts_rank(t.search, (select q from query)) desc
      limit ${sql.lit(MAX_CANDIDATES)}
    ),
    hits as (
      select m.id, u.lexeme, coalesce(array_length(u.positions, 1), 1)::float8 as tf, m.search_length::float8 as dl
      from matching m, unnest(m.search) u
      where u.lexeme in (select lexeme from terms)
    ),
    frequency as (select lexeme, count(*)::float8 as df from hits group by lexeme),
    corpus as (
      select count(*)::float8 as n, greatest(avg(t.search_length), 1)::float8 as avgdl from ${table} t where ${scope}
    ),
    ranked as (
      select h.id, sum(
        ln(1 + (corpus.n - f.df + 0.5) / (f.df + 0.5))
        * h.tf * ${sql.lit(K1 + 1)} / (h.tf + ${sql.lit(K1)} * (${sql.lit(1 - B)} + ${sql.lit(B)} * h.dl / corpus.avgdl))
      ) as score
      from hits h join frequency f using (lexeme), corpus
      group by h.id
    )
    select ${options.columns}, r.score::float8 as score
    from ranked r join ${table} t on t.id = r.id
    order by r.score desc, ${options.tieBreak} desc
    limit ${options.limit}`.execute(db);
  return result.rows.map((row) => ({ ...row, score: Number(row.score) }));
}
