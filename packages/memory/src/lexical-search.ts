import type { Database } from '@agentrix/store';
import { type QueryExecutorProvider, type RawBuilder, sql } from 'kysely';
import { TEXT_SEARCH_CONFIG } from './migrations.js';
import type { MemoryQueryScope } from './scope.js';
import { scopeCondition, scopeOwners } from './scope.js';

/** BM25's term-frequency saturation and length normalisation (the usual values, Robertson et al.). */
const K1 = 1.2;
const B = 0.75;
/** Query words searched at most (a pasted document asks for its first words only). */
const MAX_QUERY_TERMS = 64;
/**
 * Rows of a large scope a search scores at most (its candidate budget, by default; a retrieve's
 * extra searches take less, see memory.ts): the next rarest words of the query are matched with
 * its rarest while all the chosen words' matches add up to at most this many rows; a row that
 * only a commoner word matches ranks below the rows of the rarer ones (the rows with only common
 * words score little: their words' IDF is small). bench/memory, one agent's 50,000 of 100,000
 * rows: scoring every match of the question's words (8-17k rows, cut to 2,000 by `ts_rank`) took
 * ~110 ms of CPU a statement, their rarest words' 18-19 ms; the 51 search statements of its
 * questions, a sum of 2,000 scored 1,396 rows for "When did Evan present to the agency's biggest
 * client?" and 7.2 ms of CPU a statement, 1,000 6.5 ms with the same top 20 of every list (99.5%
 * of the top 84, a retrieve's depth; 750: 5.8 ms, 98% of the top 20). Compared list by list on the
 * 100k directory: see docs/memory-benchmarks.md.
 *
 * The rarest word alone is matched whole up to twice the budget (2,000 rows); in more rows than
 * that, its newest matches, half the budget (500), found by reading the scope newest first (the
 * index `memory_episodes_recent`) until there are that many. Their ranking differs by that
 * word's count and the row's length only (the other query words are commoner still), so a few
 * times a list's depth do. bench/memory, one agent's 50,000 of 100,000 rows: its newest 2,000
 * matches, read through the GIN index as all of the word's matches in the table (7,757 rows for
 * "work"), then sorted, took 33.0 ms of CPU a retrieve; its newest 500 read in order 27.5 ms (p95
 * 64 -> 46 ms; interleaved, load average 4).
 */
const CANDIDATES = 1000;
/**
 * A scope of at most this many rows is matched row by row (`ts_match_vq`, which no index serves)
 * instead of through the GIN index, whose cost is the query words' matches in the whole table.
 * bench/memory, 100,000 rows, one user's 666: the statement took 4.6-5.3 ms of CPU row by row
 * against 11.8-26 ms when the planner intersected the index's 8,110 matches of a common word
 * with the scope (same rows, same scores): row by row wins up to ~1,700 rows for that query.
 * Every match of such a scope is scored: its ranking is exact.
 */
export const SCOPE_SCAN_ROWS = 1500;
/**
 * An episode's word picks candidates when it is in at most 1 / this of the scope's rows (see
 * {@link selective}). A speaker's name is in about half of a two-person conversation's turns
 * (its speaker's `Name:` lines) and more with the times it is said: at a half, the name of the
 * speaker who says a little less than half of the turns picked all of them. bench/memory, the
 * generator's 20 conversations with the names said inside turns taken out (each name then in
 * 48-52% of the turns): all evidence 90.0% at a half, 91.0% at a third or a quarter (91.0% with
 * the names kept, at each); session 14, docs/memory-benchmarks.md.
 */
const SELECTING_SHARE = 3;
/** Characters of a query searched at most. */
export const MAX_QUERY_LENGTH = 8000;

/**
 * What a search runs on: a large scope's searches as plain statements on `kysely` (each plan is
 * made for its tsquery: the GIN index or the scope's), the statistics and a small scope's searches
 * (its rows read through the scope's index and each matched, whatever the words) as prepared
 * statements (`executePrepared`: parsed and described once).
 */
export interface SearchDatabase {
  kysely: QueryExecutorProvider;
  executePrepared: Database['executePrepared'];
}

/** The columns the search adds to the matching rows for its own use, dropped from the result. */
interface MatchColumns {
  match_tie: unknown;
}

export interface LexicalSearchOptions {
  /** `memory_episodes` or `memory_facts`. */
  table: 'memory_episodes' | 'memory_facts';
  /** The columns to return, of the table aliased `t`. */
  columns: RawBuilder<unknown>;
  scope: MemoryQueryScope;
  query: string;
  limit: number;
  /** Orders equal scores (newest first). */
  tieBreak: RawBuilder<unknown>;
  /** Rows a large scope's search scores at most: {@link CANDIDATES}, the default. */
  candidates?: number | undefined;
}

/** Several queries searched together: {@link lexicalSearches}. */
export interface LexicalSearchesOptions extends Omit<LexicalSearchOptions, 'query' | 'limit' | 'candidates'> {
  queries: ReadonlyArray<{ query: string; limit: number; candidates?: number | undefined }>;
}

/** A query lexeme with its document frequency in the scope and its tsquery literal. */
export interface Term {
  lexeme: string;
  documents: number;
  literal: string;
}

/**
 * The rows of `scope` that share a word with `query`, ranked by BM25 in SQL: each query lexeme
 * weighs by its inverse document frequency among the scope's rows (so a speaker's name, in half
 * of the turns, counts little and a rare word much), its count in the row saturates (k1 1.2),
 * and long rows are normalised by their length (`search_length`, distinct lexemes) against the
 * scope's average (b 0.75). The row count, total length and document frequencies come from the
 * statistics the database keeps per scope on every write (migration
 * `0008_memory_term_statistics`), so no statement counts a scope's rows. A scope of at most
 * {@link SCOPE_SCAN_ROWS} rows is ranked exactly; a larger one scores the matches of its rarest
 * words ({@link CANDIDATES}). Stop words and stemming are Postgres's `english` configuration.
 */
export async function lexicalSearch<Row>(
  database: SearchDatabase,
  options: LexicalSearchOptions,
  statistics?: QueryStatistics,
): Promise<Array<Row & { score: number }>> {
  const { query, limit, candidates, ...rest } = options;
  const [ranked] = await lexicalSearches<Row>(
    database,
    { ...rest, queries: [{ query, limit, candidates }] },
    statistics ? [statistics] : undefined,
  );
  return ranked!;
}

/** A query's words in a scope and the scope's size, for BM25: {@link searchStatistics}. */
export interface QueryStatistics {
  /** Rows of the table in the scope. */
  rows: number;
  averageLength: number;
  /** The query's lexemes, in the scope or not. */
  words: number;
  /** The query's lexemes found in the scope, rarest first. */
  terms: Term[];
}

/**
 * The statistics of several searches of one scope (the tables' sizes, each query's lexemes and
 * their document frequencies) in one statement: one list per request, one entry per query. The
 * lexemes come first, in a statement of their own, so each search's plan is made with the real
 * tsquery: built in the same statement (a CTE), it was unknown to the planner, which guessed 500
 * matching rows and intersected the GIN index (18,258 rows with a speaker's name among 100,000)
 * with the scope instead of reading the scope's 666 rows (EXPLAIN ANALYZE, PGlite, one user
 * among 100,000 rows: 2,155 ms; see docs/memory-benchmarks.md). PGlite runs one statement at a time,
 * `select 1` alone ~0.7 ms of CPU: a retrieve asks for its facts' and episodes' together.
 */
export async function searchStatistics(
  database: SearchDatabase,
  scope: MemoryQueryScope,
  requests: ReadonlyArray<{ table: LexicalSearchOptions['table']; queries: readonly string[] }>,
): Promise<QueryStatistics[][]> {
  const queries = requests.flatMap(({ queries }) => queries.map((query) => query.slice(0, MAX_QUERY_LENGTH)));
  const sources = requests.flatMap(({ table, queries }) => queries.map(() => table));
  const found = requests.map(({ queries }) =>
    queries.map((): QueryStatistics => ({ rows: 0, averageLength: 1, words: 0, terms: [] })),
  );
  if (queries.length === 0) return found;
  const flat = found.flat();
  const statisticsScope = scopeCondition(scope, 's');
  const statement = sql<{
    query_index: number;
    lexeme: string;
    literal: string;
    documents: number;
    rows: number;
    length: number;
  }>`
    with lexemes as (
      select q.query_index, q.source, l.lexeme
      from unnest(${queries}::text[], ${sources}::text[]) with ordinality as q(query, source, query_index)
      cross join lateral (
        select distinct u.lexeme from unnest(to_tsvector(${TEXT_SEARCH_CONFIG}::regconfig, q.query)) u
        limit ${MAX_QUERY_TERMS}
      ) l
    ),
    size as (
      select s.source, coalesce(sum(s.documents), 0)::float8 as rows, coalesce(sum(s.length), 0)::float8 as length
      from memory_scope_statistics s where s.source = any(${[...new Set(sources)]}::text[]) and ${statisticsScope}
      group by s.source
    )
    select l.query_index::int as query_index, l.lexeme, quote_literal(l.lexeme) as literal,
      coalesce(z.rows, 0) as rows, coalesce(z.length, 0) as length,
      coalesce((select sum(s.documents) from memory_term_statistics s
        where s.source = l.source and s.lexeme = l.lexeme and ${statisticsScope}), 0)::float8 as documents
    from lexemes l left join size z on z.source = l.source`;
  // Prepared: its text depends on the scope's shape only, its plan on no value (bench/memory, one
  // agent's 100,000-row directory: 2.25 -> 0.86 ms of CPU a statement, see PglitePreparedClient).
  const statistics = await database.executePrepared(statement.compile(database.kysely));
  for (const row of statistics.rows) {
    const entry = flat[row.query_index - 1]!;
    const rows = Number(row.rows);
    entry.rows = rows;
    entry.words++;
    if (rows > 0) entry.averageLength = Math.max(Number(row.length) / rows, 1);
    if (Number(row.documents) === 0) continue;
    entry.terms.push({ lexeme: row.lexeme, literal: row.literal, documents: Number(row.documents) });
  }
  for (const entry of flat) entry.terms.sort((a, b) => a.documents - b.documents || (a.lexeme < b.lexeme ? -1 : 1));
  return found;
}

/**
 * {@link lexicalSearch} for several queries (a question and its sub-queries): their statistics in
 * one statement ({@link searchStatistics}, or `statistics` read before with others), then one
 * search statement for each query that has a word in the scope. Each list is the one
 * `lexicalSearch` gives for its query.
 */
export async function lexicalSearches<Row>(
  database: SearchDatabase,
  options: LexicalSearchesOptions,
  statistics?: readonly QueryStatistics[],
): Promise<Array<Array<Row & { score: number }>>> {
  const found = options.queries.map((): Array<Row & { score: number }> => []);
  if (options.queries.length === 0) return found;
  const known =
    statistics ??
    (
      await searchStatistics(database, options.scope, [
        { table: options.table, queries: options.queries.map((q) => q.query) },
      ])
    )[0]!;
  // Queries of the same lexemes in the scope (a sub-query that only drops words the scope does not
  // have) rank alike: one statement, the first's (the question's, with its candidate budget), its
  // list shared. bench/memory, one agent's 50,000 rows: "What activity did Maria suggest for Evan
  // and the dog?" and its part "Maria suggest Evan dog" are both {dog, maria, evan} there.
  const searched = new Map<string, Array<Row & { score: number }>>();
  for (const [index, { rows, averageLength, terms }] of known.entries()) {
    // An empty scope or no word of the query in it: no search statement.
    if (rows === 0 || terms.length === 0) continue;
    const { limit, candidates = CANDIDATES } = options.queries[index]!;
    const key = JSON.stringify([terms.map((term) => term.lexeme), limit]);
    const list =
      searched.get(key) ?? (await rankedSearch<Row>(database, options, terms, rows, averageLength, limit, candidates));
    searched.set(key, list);
    found[index] = [...list];
  }
  return found;
}

/**
 * One query's search: its matching rows of the scope, ranked by BM25 with the scope's statistics;
 * in a large scope, the matches of its rarest words within `budget` rows ({@link CANDIDATES}).
 */
async function rankedSearch<Row>(
  database: SearchDatabase,
  options: LexicalSearchesOptions,
  terms: readonly Term[],
  rows: number,
  averageLength: number,
  limit: number,
  budget: number,
): Promise<Array<Row & { score: number }>> {
  const table = sql.table(options.table);
  const tsquery = (chosen: readonly Term[]) => chosen.map((term) => term.literal).join(' | ');
  const selecting = searchedTerms(options.table, terms, rows);
  const candidates = rarest(selecting, budget);
  const scope = scopeCondition(options.scope);
  let source: RawBuilder<unknown> = table;
  let matching: RawBuilder<unknown>;
  if (rows <= SCOPE_SCAN_ROWS) matching = sql`ts_match_vq(t.search, ${tsquery(selecting)}::tsquery)`;
  else if (newestOnly(selecting, budget)) {
    // The newest matches of one common word: each (user, agent) range of the scope read newest
    // first until it has them, not every match of the word in the table (see CANDIDATES).
    const newest = sql.lit(Math.ceil(budget / 2));
    const owners = scopeOwners(options.scope).map(
      (owner) => sql`(select * from ${table} t where t.user_id = ${owner.user_id} and t.agent_id = ${owner.agent_id}
        and ${scope} and t.search @@ ${tsquery(candidates)}::tsquery
        order by ${options.tieBreak} desc limit ${newest})`,
    );
    source = sql`(select * from (${sql.join(owners, sql` union all `)}) t
      order by ${options.tieBreak} desc limit ${newest})`;
    matching = sql`true`;
  } else matching = sql`t.search @@ ${tsquery(candidates)}::tsquery`;
  const lexemes = terms.map((term) => term.lexeme);
  const weights = terms.map((term) => Math.log(1 + (rows - term.documents + 0.5) / (term.documents + 0.5)));
  return scoreMatches<Row>(database, options, {
    prepared: rows <= SCOPE_SCAN_ROWS,
    lexemes: sql`${lexemes}::text[]`,
    idfs: sql`${weights}::float8[]`,
    source,
    matching,
    averageLength,
    limit,
  });
}

/**
 * {@link lexicalSearch} in a scope whose size a retrieve has just read (its second hop and
 * feedback searches): when the scope is small enough to be matched row by row, the query's
 * lexemes and their document frequencies are read inside the search statement, one statement
 * instead of two. That plan (the scope's rows through its index, each matched) does not depend on
 * the query, so the planner needs no literal tsquery here; a larger scope is searched as
 * `lexicalSearch` does. Each list is the one `lexicalSearch` gives.
 */
export async function lexicalSearchInScope<Row>(
  database: SearchDatabase,
  options: LexicalSearchOptions,
  size: { rows: number; averageLength: number },
): Promise<Array<Row & { score: number }>> {
  // 0: not known (a question of no words has no statistics row).
  if (size.rows === 0 || size.rows > SCOPE_SCAN_ROWS) return lexicalSearch<Row>(database, options);
  const rows = size.rows;
  // The query's lexemes in the scope, their IDF, and both as arrays for the score.
  const prelude = sql`found as materialized (
      select l.lexeme, d.documents from (
        select distinct u.lexeme from unnest(to_tsvector(${TEXT_SEARCH_CONFIG}::regconfig, ${options.query.slice(0, MAX_QUERY_LENGTH)})) u
        limit ${MAX_QUERY_TERMS}
      ) l cross join lateral (
        select sum(s.documents)::float8 as documents from memory_term_statistics s
        where s.source = ${options.table} and s.lexeme = l.lexeme and ${scopeCondition(options.scope, 's')}
      ) d where d.documents > 0
    ),
    terms as materialized (
      select lexeme, ln(1 + (${rows}::float8 - documents + 0.5) / (documents + 0.5)) as idf, documents from found
    ),
    weights as materialized (select array_agg(lexeme) as lexemes, array_agg(idf) as idfs from terms)`;
  // searchedTerms(), in SQL (episodes only): the words in at most a third of the
  // rows, else all of them.
  const byRareWords = options.table === 'memory_episodes';
  const selecting = sql`(select string_agg(quote_literal(lexeme), ' | ')::tsquery from terms
    where ${sql.lit(!byRareWords)} or documents * ${sql.lit(SELECTING_SHARE)} <= ${rows}
      or not exists (select from terms where documents * ${sql.lit(SELECTING_SHARE)} <= ${rows}))`;
  return scoreMatches<Row>(database, options, {
    prepared: true,
    prelude,
    lexemes: sql`(select lexemes from weights)`,
    idfs: sql`(select idfs from weights)`,
    source: sql.table(options.table),
    matching: sql`ts_match_vq(t.search, ${selecting})`,
    averageLength: size.averageLength,
    limit: options.limit,
  });
}

/**
 * The matching rows of the scope, ranked by BM25: `lexemes` are the query's words (a `text[]`
 * expression), `idfs` their IDF in the same order (`float8[]`), `matching` the condition on
 * `source` aliased `t`, `prelude` the CTEs those expressions read.
 */
async function scoreMatches<Row>(
  database: SearchDatabase,
  options: Omit<LexicalSearchesOptions, 'queries'>,
  statement: {
    /**
     * A small scope's search, whose plan depends on no value (the scope's rows, each matched): a
     * prepared statement. Postgres still plans it with the values each time (its generic plan
     * costs more), so the gain is the parse and the calls: bench/memory, one user's 666 of
     * 100,000 rows, 11.70 -> 10.11 ms of CPU a retrieve, the same prompts.
     */
    prepared: boolean;
    prelude?: RawBuilder<unknown>;
    lexemes: RawBuilder<unknown>;
    idfs: RawBuilder<unknown>;
    source: RawBuilder<unknown>;
    matching: RawBuilder<unknown>;
    averageLength: number;
    limit: number;
  },
): Promise<Array<Row & { score: number }>> {
  const { prelude, lexemes, idfs, source, matching, averageLength, limit, prepared } = statement;
  // Each matching row is scored as it is read, in one statement with no CTE: its query lexemes
  // only (marked with weight A, then filtered: unnesting every lexeme of a row, with its
  // positions, was a third of the statement), each weighed by its IDF at its place in the query's
  // array. Scoring rows carried through a materialized CTE, joined to a table of the query's
  // lexemes, returned them with that row's filtered lexemes, id and length, which the caller
  // dropped. bench/memory, 100,000 rows, interleaved, the same prompts in every retrieve: one
  // agent's 50,000 18.71 -> 16.65 ms of CPU a retrieve, one user 9.20 -> 8.67 (load average 6).
  const score = sql`(select sum(
      (${idfs})[array_position(${lexemes}, v.lexeme)] * v.tf * ${sql.lit(K1 + 1)}
      / (v.tf + ${sql.lit(K1)} * (${sql.lit(1 - B)} + ${sql.lit(B)} * t.search_length::float8 / ${averageLength}::float8))
    ) from (
      select u.lexeme, coalesce(array_length(u.positions, 1), 1)::float8 as tf
      from unnest(ts_filter(setweight(t.search, 'A', ${lexemes}), '{a}')) u
    ) v)::float8`;
  const query = sql<Row & MatchColumns & { score: number }>`
    ${prelude ? sql`with ${prelude}` : sql``}
    select ${options.columns}, ${score} as score, ${options.tieBreak} as match_tie
    from ${source} t
    where ${scopeCondition(options.scope)} and ${matching}
    order by score desc nulls last, match_tie desc
    limit ${limit}`;
  const result = prepared
    ? await database.executePrepared(query.compile(database.kysely))
    : await query.execute(database.kysely);
  return result.rows.map(({ match_tie, ...row }) => ({
    ...(row as Row & { score: number }),
    score: Number(row.score),
  }));
}

/**
 * True when none of a query's words found in the scope is in at most a third of its rows (only a
 * speaker's name, say): its matches are then that word's rows, shortest first, not matches of
 * what it asks (see {@link selective}).
 */
export function matchesCommonWordsOnly(statistics: { rows: number; terms: readonly Term[] }): boolean {
  return !statistics.terms.some((term) => picksCandidates(term, statistics.rows));
}

/** A word in at most a third of the scope's `rows` ({@link SELECTING_SHARE}): it picks candidates. */
function picksCandidates(term: Term, rows: number): boolean {
  return term.documents * SELECTING_SHARE <= rows;
}

/**
 * The terms that pick a search's candidates: those in at most a third of the scope's rows
 * ({@link SELECTING_SHARE}), when the query has any; a word in more of them (a speaker's name,
 * in 64% of a conversation's turns) is still scored in the rows the others match. Its classic
 * IDF, log((N - n + 0.5) / (n + 0.5)), is near or below zero there (BM25's +1 form keeps it
 * under ln 3 = 1.1 at a third, against 2.1 for a word in 12% of the rows): a row with only that
 * word ranks below nearly every row with another query word, and matching it made a user's
 * search score two thirds of the conversation instead of its few matches of the other words
 * (bench/memory: see docs/memory-benchmarks.md), and filled the budget with that speaker's
 * shortest turns, leaving none to the self-disclosure search and the conversation around the
 * matches. Episodes only: a fact is a distilled statement about its subject, so a name there is
 * what the fact is about, and facts are few and short (bench/memory's distill section, tuning
 * seeds: 89.4% -> 91.2% with facts picked by names too, the rows without facts unchanged).
 */
function selective(terms: readonly Term[], rows: number): readonly Term[] {
  const chosen = terms.filter((term) => picksCandidates(term, rows));
  return chosen.length > 0 ? chosen : terms;
}

/**
 * True when a search of `statistics` (a query's in a large scope) ranks the newest matches of
 * its rarest word only: that word is in more than twice `candidates` rows (see {@link CANDIDATES}).
 */
export function ranksNewestOnly(
  table: LexicalSearchOptions['table'],
  statistics: { rows: number; terms: readonly Term[] },
  candidates = CANDIDATES,
): boolean {
  const { rows, terms } = statistics;
  return rows > SCOPE_SCAN_ROWS && terms.length > 0 && newestOnly(searchedTerms(table, terms, rows), candidates);
}

/** The rarest of the words a search selects by is in more than twice `budget` rows: its newest matches are read. */
function newestOnly(selecting: readonly Term[], budget: number): boolean {
  return selecting[0]!.documents > 2 * budget;
}

/** The words a search selects its rows by: an episode's rarer words ({@link selective}), a fact's every word. */
function searchedTerms(table: LexicalSearchOptions['table'], terms: readonly Term[], rows: number): readonly Term[] {
  return table === 'memory_episodes' ? selective(terms, rows) : terms;
}

/**
 * The rarest terms whose matches add up to at most `budget` rows (at least the rarest one): a
 * large scope's candidates. `terms` is sorted rarest first.
 */
function rarest(terms: readonly Term[], budget: number): Term[] {
  const chosen = [terms[0]!];
  let documents = terms[0]!.documents;
  for (const term of terms.slice(1)) {
    documents += term.documents;
    if (documents > budget) break;
    chosen.push(term);
  }
  return chosen;
}
