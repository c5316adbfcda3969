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
/**
 * A scope of at most this many rows is matched row by row (`ts_match_vq`, which no index serves)
 * instead of through the GIN index, whose cost is the query words' matches in the whole table.
 * bench/memory, 100,000 rows, one user's 666: the statement took 4.6-5.3 ms of CPU row by row
 * against 11.8-26 ms when the planner intersected the index's 8,110 matches of a common word
 * with the scope (same rows, same scores): row by row wins up to ~1,700 rows for that query.
 */
export const SCOPE_SCAN_ROWS = 1500; // below MAX_CANDIDATES: such a scope's matches are never cut
/** Characters of a query searched at most. */
export const MAX_QUERY_LENGTH = 8000;

/** The columns the search adds to the matching rows for its own use, dropped from the result. */
interface MatchColumns {
  match_id: string;
  match_search: unknown;
  match_length: number;
  match_tie: unknown;
}

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
  // The query's lexemes first, in a statement of their own, so the search's plan is made with the
  // real tsquery: built in the same statement (a CTE), it was unknown to the planner, which
  // guessed 500 matching rows and intersected the GIN index (18,258 rows with a speaker's name
  // among 100,000) with the scope instead of reading the scope's 666 rows (EXPLAIN ANALYZE,
  // PGlite, one user among 100,000 rows: 2,155 ms; see docs/memory.md).
  // The same statement counts the scope's rows up to SCOPE_SCAN_ROWS + 1, to choose how to match.
  const terms = await sql<{ terms: string[] | null; q: string | null; scoped: number }>`
    select array_agg(lexeme) as terms, string_agg(quote_literal(lexeme), ' | ') as q,
      (select count(*)::int from (select 1 from ${table} t where ${scope} limit ${SCOPE_SCAN_ROWS + 1}) s) as scoped
    from (
      select distinct u.lexeme from unnest(to_tsvector(${TEXT_SEARCH_CONFIG}::regconfig, ${query})) u
      limit ${MAX_QUERY_TERMS}
    ) lexemes`.execute(db);
  const { terms: lexemes, q, scoped } = terms.rows[0] ?? { terms: null, q: null, scoped: 0 };
  // An empty scope has nothing to rank (a user with no facts yet): no second statement.
  if (!lexemes || !q || Number(scoped) === 0) return [];
  // A small scope's matches are fewer than MAX_CANDIDATES: all of them are ranked, none cut by ts_rank.
  const matching =
    Number(scoped) <= SCOPE_SCAN_ROWS
      ? sql`ts_match_vq(t.search, ${q}::tsquery)`
      : sql`t.search @@ ${q}::tsquery order by ts_rank(t.search, ${q}::tsquery) desc limit ${sql.lit(MAX_CANDIDATES)}`;
  // The output columns are carried from the matching rows: joining the table again for them read
  // all of its rows when the planner misjudged the count of matches.
  const result = await sql<Row & MatchColumns & { score: number }>`
    with matching as materialized (
      select ${options.columns}, t.id as match_id, t.search as match_search, t.search_length as match_length,
        ${options.tieBreak} as match_tie
      from ${table} t
      where ${scope} and ${matching}
    ),
    hits as (
      select m.match_id as id, u.lexeme, coalesce(array_length(u.positions, 1), 1)::float8 as tf,
        m.match_length::float8 as dl
      from matching m, unnest(m.match_search) u
      where u.lexeme = any(${lexemes}::text[])
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
    select m.*, r.score::float8 as score
    from ranked r join matching m on m.match_id = r.id
    order by r.score desc, m.match_tie desc
    limit ${options.limit}`.execute(db);
  return result.rows.map(({ match_id, match_search, match_length, match_tie, ...row }) => ({
    ...(row as Row & { score: number }),
    score: Number(row.score),
  }));
}
