import { openTestPglite, type TestPglite } from '@agentrix/store/testing';
import { type CompiledQuery, type QueryExecutorProvider, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  lexicalSearch,
  lexicalSearches,
  lexicalSearchInScope,
  SCOPE_SCAN_ROWS,
  type SearchDatabase,
  searchStatistics,
} from './lexical-search.js';
import { createMemory } from './memory.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** A search of facts' text, newest first on ties. */
const FACT_SEARCH = { table: 'memory_facts', columns: sql`t.text`, tieBreak: sql`t.updated_at` } as const;
/** A search of episodes' text, oldest first on ties. */
const EPISODE_SEARCH = { table: 'memory_episodes', columns: sql`t.text`, tieBreak: sql`t.occurred_at` } as const;

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];
/** A ranking statement: its score keeps each row's query lexemes (see scoreMatches). */
const isSearch = (statement: string) => statement.includes('ts_filter(setweight(');

// The plan of one user's search among many users who say the same name: read the user's rows,
// not the GIN index's matches of every user, and not the whole table again for the columns.
describe('lexicalSearch plans on PGlite', () => {
  let test: TestPglite;

  beforeAll(async () => {
    test = await openTestPglite();
    const memory = await createMemory({ database: test.database });
    const turns = (scope: { userId?: string; agentId?: string }, count: number) =>
      Array.from({ length: count }, (_, index) => ({
        scope,
        messageId: `${scope.userId ?? scope.agentId}-${index}`,
        messages: [{ role: 'user' as const, name: 'Evan', content: `Evan here, day ${index}, the weather was fine.` }],
      }));
    // A news agent of 4,200 rows, half of them about rain (written by SQL: fast, and counted by the
    // statistics triggers all the same; the import's ANALYZE below sees them). The 1,000th says it
    // three times in few words: the best BM25 match, among the newest 2,000 but not the newest 500.
    await sql`insert into memory_episodes (id, agent_id, text, created_at, occurred_at)
      select 'news-' || i, 'news', case when i = 1000 then 'Rain, rain, rain.'
        when i <= 2100 then 'Rain in the valley, report ' || i else 'Sun over the hills, note ' || i end, 0, i
      from generate_series(1, 4200) i`.execute(test.database.kysely);
    // A forum agent of 2,000 rows: "kayak" in 600 of them, "paddle" in 800 (100 with both).
    await sql`insert into memory_episodes (id, agent_id, text, created_at, occurred_at)
      select 'forum-' || i, 'forum', case when i <= 100 then 'Kayak and paddle trip ' || i
        when i <= 600 then 'Kayak trip ' || i when i <= 1300 then 'Paddle club ' || i else 'Hello forum ' || i end, 0, i
      from generate_series(1, 2000) i`.execute(test.database.kysely);
    // One import, one ANALYZE after it: an agent's memory of no user (the planner took half the
    // table to be in Ana's scope), other users, then Ana.
    await memory.recordEpisodes([
      // More than SCOPE_SCAN_ROWS: matched through the GIN index.
      ...turns({ agentId: 'shared' }, 1600),
      ...Array.from({ length: 4 }, (_, user) => turns({ userId: `other-${user}` }, 250)).flat(),
      ...turns({ userId: 'ana' }, 40),
      {
        scope: { userId: 'ana' },
        messageId: 'dog',
        messages: [{ role: 'user', name: 'Evan', content: 'I adopted a beagle from the shelter.' }],
      },
    ]);
  }, 30_000);
  afterAll(async () => {
    await test?.dispose();
  });

  it("estimates a user's scope by its rows, not by the agent's rows of no user", async () => {
    const explained = await sql<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>`explain (format json)
      select id from memory_episodes where user_id = any(${['', 'ana']}::text[]) and agent_id = ''`.execute(
      test.database.kysely,
    );
    // 41 rows: without statistics of the two columns together, 1,041 / 2,041 x 1,041 = ~530.
    expect(explained.rows[0]!['QUERY PLAN'][0]!.Plan['Plan Rows']).toBeLessThan(100);
  });

  /** Runs `search` on a provider that explains each ranking statement first; returns the plans and every statement. */
  async function explained<T>(search: (db: SearchDatabase) => Promise<T>) {
    const plans: PlanNode[] = [];
    const statements: string[] = [];
    const parameters: unknown[][] = [];
    /** The columns of each ranking statement's rows, as the database returned them. */
    const returned: string[][] = [];
    const executor = test.database.kysely.getExecutor();
    const explaining: QueryExecutorProvider = {
      getExecutor: () =>
        new Proxy(executor, {
          get: (target, name) => (name === 'executeQuery' ? executeQuery : Reflect.get(target, name).bind(target)),
        }),
    };
    async function executeQuery(query: CompiledQuery) {
      statements.push(query.sql);
      parameters.push([...query.parameters]);
      if (isSearch(query.sql)) {
        const result = await executor.executeQuery<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>({
          ...query,
          sql: `explain (format json) ${query.sql}`,
        });
        plans.push(result.rows[0]!['QUERY PLAN'][0]!.Plan);
      }
      const result = await executor.executeQuery(query);
      if (isSearch(query.sql)) returned.push(Object.keys(result.rows[0] ?? {}));
      return result;
    }
    return {
      result: await search({ kysely: explaining, executePrepared: executeQuery as SearchDatabase['executePrepared'] }),
      plans,
      statements,
      parameters,
      returned,
    };
  }

  /** A memory whose kysely statements go through `db` (the recording executor of {@link explained}). */
  const recordedMemory = (db: SearchDatabase) => {
    const kysely = new Proxy(test.database.kysely, {
      get: (target, name) => (name === 'getExecutor' ? () => db.kysely.getExecutor() : Reflect.get(target, name)),
    });
    const database = Object.create(test.database, { kysely: { value: kysely } }) as typeof test.database;
    return createMemory({ database, migrate: false });
  };
  const episodes = (db: SearchDatabase, scope: { userId?: string; agentId?: string }, query: string) =>
    lexicalSearch<{ text: string }>(db, { ...EPISODE_SEARCH, scope, query, limit: 5 });
  const indexes = (plan: PlanNode) => nodes(plan).map((node) => node['Index Name']);

  it("reads the scope's rows and never the whole table", async () => {
    const { result, plans } = await explained((db) => episodes(db, { userId: 'ana' }, 'Which dog did Evan adopt?'));
    expect(result[0]?.text).toBe('Evan: I adopted a beagle from the shelter.');
    expect(plans).toHaveLength(1);
    const scans = nodes(plans[0]!).filter((node) => node['Relation Name'] === 'memory_episodes');
    expect(scans.map((node) => node['Node Type'])).not.toContain('Seq Scan');
    expect(indexes(plans[0]!)).not.toContain('memory_episodes_search');
  });

  // A small scope is matched row by row, whose cost does not depend on the words' matches in other
  // scopes; a large one through the index.
  it('matches a small scope row by row, a large one through the GIN index', async () => {
    const small = await explained((db) => episodes(db, { userId: 'ana' }, 'beagle'));
    expect(small.result.map((row) => row.text)).toEqual(['Evan: I adopted a beagle from the shelter.']);
    expect(indexes(small.plans[0]!)).not.toContain('memory_episodes_search');
    // The planner's pick at 100,000 rows (bench/memory) whatever the scope: the function keeps it off the index.
    const scan = small.statements.find((statement) => isSearch(statement));
    expect(scan).toContain('ts_match_vq(');
    // Fewer rows than twice CANDIDATES: no pre-ranking by ts_rank to cut them.
    expect(scan).not.toContain('ts_rank(');
    const large = await explained((db) => episodes(db, { agentId: 'shared' }, 'Evan day 7 weather'));
    expect(large.result[0]?.text).toBe('Evan: Evan here, day 7, the weather was fine.');
    const ranking = large.statements.find((statement) => isSearch(statement));
    expect(ranking).toContain('@@');
    expect(ranking).not.toContain('ts_match_vq(');
    expect(SCOPE_SCAN_ROWS).toBeLessThan(1600);
  });

  // A large scope's candidates are the matches of its rarest words while they add up to at most
  // 2,000 rows, of the words in at most half of its rows: "7" is in one row of the agent's 1,600
  // ("day 17" is "17"), "day", "Evan" and "weather" in all of them, so "7" alone is matched.
  it("scores a large scope's matches of its rarest words only, and never counts its rows", async () => {
    const { result, statements, parameters } = await explained((db) =>
      episodes(db, { agentId: 'shared' }, 'Evan day 7 weather'),
    );
    expect(result[0]?.text).toBe('Evan: Evan here, day 7, the weather was fine.');
    const ranking = statements.findIndex((statement) => isSearch(statement));
    expect(parameters[ranking]).toContain("'7'");
    expect(parameters[ranking]).not.toContain("'7' | 'day'");
    // No statement reads the scope for its size: the statistics tables say it.
    expect(statements.filter((statement) => /count\(/.test(statement))).toEqual([]);
  });

  // "kayak" (600 rows) and "paddle" (800) add up to over 1,000 matches: only the rarer one's rows
  // are scored, and those with both words rank first.
  it("scores a large scope's next rarest word only while their matches add up to 1,000 rows", async () => {
    const { result, statements, parameters } = await explained((db) =>
      episodes(db, { agentId: 'forum' }, 'paddle kayak'),
    );
    const ranking = statements.findIndex((statement) => isSearch(statement));
    expect(parameters[ranking]).toContain("'kayak'");
    expect(parameters[ranking]).not.toContain("'kayak' | 'paddl'");
    expect(result).toHaveLength(5);
    for (const row of result) expect(row.text).toMatch(/^Kayak and paddle trip \d+$/);
  });

  // "Evan" is in all of Ana's 41 rows: it matches none, but counts in the row "beagle" matches.
  it('matches by the words in at most half of the scope, and scores every query word', async () => {
    const both = await episodes(test.database, { userId: 'ana' }, 'Evan beagle');
    expect(both.map((row) => row.text)).toEqual(['Evan: I adopted a beagle from the shelter.']);
    const [beagle] = await episodes(test.database, { userId: 'ana' }, 'beagle');
    expect(both[0]!.score).toBeGreaterThan(beagle!.score);
    // A query of such words only still finds their rows.
    expect(await episodes(test.database, { userId: 'ana' }, 'Evan')).toHaveLength(5);
  });

  // A speaker who says 40% of a conversation's turns: her name is in more than a third of them, so
  // it picks none (at a half it picked all of hers, which then filled a budget with her shortest).
  it('matches by no word in more than a third of the scope: a speaker who says 40% of the turns', async () => {
    const memory = await createMemory({ database: test.database });
    await memory.recordEpisodes(
      Array.from({ length: 30 }, (_, index) => {
        const mia = index % 5 < 2;
        return {
          scope: { userId: 'mia-and-leo' },
          messageId: `mia-and-leo-${index}`,
          messages: [
            {
              role: 'user' as const,
              name: mia ? 'Mia' : 'Leo',
              content:
                index === 7 ? 'My sister got a puppy, a beagle.' : mia ? 'Okay!' : `Long shift at the depot, ${index}.`,
            },
          ],
        };
      }),
    );
    const found = await episodes(test.database, { userId: 'mia-and-leo' }, 'What did Mia say about the beagle?');
    expect(found.map((row) => row.text)).toEqual(['Leo: My sister got a puppy, a beagle.']);
  });

  // "rain" is in 2,100 of the news agent's 4,200 rows, over twice CANDIDATES (2,000): its newest 500
  // matches are read in time order, not all 2,100 through the GIN index.
  it("scores a large scope's newest matches of a word in more than 2,000 of its rows", async () => {
    const { result, plans, statements } = await explained((db) => episodes(db, { agentId: 'news' }, 'rain'));
    expect(result).toHaveLength(5);
    expect(result.map((row) => row.text)).not.toContain('Rain, rain, rain.');
    for (const row of result) expect(Number(row.text.match(/\d+$/)![0])).toBeGreaterThan(2100 - 500);
    expect(indexes(plans[0]!)).not.toContain('memory_episodes_search');
    expect(indexes(plans[0]!)).toContain('memory_episodes_recent');
    expect(statements.find((statement) => isSearch(statement))).toContain('limit 500');
  });

  // A retrieve's extra searches score fewer rows of a large scope: "rain" in 2,100 rows is over
  // twice a budget of 400, so its newest 200 matches are scored (500 with the default budget).
  it("scores a large scope's newest matches within a search's candidate budget", async () => {
    const { result, statements } = await explained((db) =>
      lexicalSearch<{ text: string }>(db, {
        ...EPISODE_SEARCH,
        scope: { agentId: 'news' },
        query: 'rain',
        limit: 300,
        candidates: 400,
      }),
    );
    expect(result).toHaveLength(200);
    for (const row of result) expect(Number(row.text.match(/\d+$/)![0])).toBeGreaterThan(2100 - 200);
    expect(statements.find((statement) => isSearch(statement))).toContain('limit 200');
    // "kayak" (600 rows) alone fits a budget of 400 twice over: matched whole, "paddle" (800) left out.
    const forum = await lexicalSearch<{ text: string }>(test.database, {
      ...EPISODE_SEARCH,
      scope: { agentId: 'forum' },
      query: 'paddle kayak',
      limit: 1000,
      candidates: 400,
    });
    expect(forum).toHaveLength(600);
  });

  it('searches queries of the same words in the scope once, each list as lexicalSearch gives it', async () => {
    const options = { ...EPISODE_SEARCH, scope: { userId: 'ana' } };
    // "Which" and "did" are stop words, "zebra" is in none of Ana's rows: all three are {dog, evan, adopt}.
    const queries = ['Which dog did Evan adopt?', 'Evan adopt dog', 'zebra dog Evan adopt', 'beagle'];
    const { result, statements } = await explained((db) =>
      lexicalSearches<{ text: string }>(db, { ...options, queries: queries.map((query) => ({ query, limit: 50 })) }),
    );
    expect(statements).toHaveLength(1 + 2);
    const alone = await lexicalSearch<{ text: string }>(test.database, {
      ...options,
      query: queries[0]!,
      limit: 50,
    });
    expect(alone[0]?.text).toBe('Evan: I adopted a beagle from the shelter.');
    for (const list of result.slice(0, 3)) expect(list).toEqual(alone);
    expect(result[3]!.map((row) => row.text)).toEqual(['Evan: I adopted a beagle from the shelter.']);
  });

  it('keeps no pending list in the full-text indexes (PGlite has no autovacuum to empty it)', async () => {
    const options = await sql<{ relname: string; reloptions: string[] }>`select relname, reloptions from pg_class
      where relname in ('memory_episodes_search', 'memory_facts_search') order by relname`.execute(
      test.database.kysely,
    );
    expect(options.rows).toEqual([
      { relname: 'memory_episodes_search', reloptions: ['fastupdate=off'] },
      { relname: 'memory_facts_search', reloptions: ['fastupdate=off'] },
    ]);
  });

  it('searches several queries with one statistics statement, each list as lexicalSearch gives it', async () => {
    const queries = ['Which dog did Evan adopt?', 'beagle shelter', 'the of and', 'weather day 7'];
    const options = { ...EPISODE_SEARCH, scope: { userId: 'ana' } };
    // Every match (at most 41), sorted: rows of equal score may come in any order.
    const sorted = (rows: Array<{ text: string; score: number }>) =>
      rows.map(({ text, score }) => `${score.toFixed(9)} ${text}`).sort();
    const { result, statements } = await explained((db) =>
      lexicalSearches<{ text: string }>(db, {
        ...options,
        queries: queries.map((query) => ({ query, limit: 50 })),
      }),
    );
    for (const [index, query] of queries.entries()) {
      const alone = await lexicalSearch<{ text: string }>(test.database, {
        ...options,
        query,
        limit: 50,
      });
      expect(sorted(result[index]!)).toEqual(sorted(alone));
    }
    expect(result[0]![0]?.text).toBe('Evan: I adopted a beagle from the shelter.');
    expect(result[2]).toEqual([]); // stop words only: no search statement
    expect(statements).toHaveLength(1 + 3);
  });

  it('searches a small scope of known size in one statement, as lexicalSearch does', async () => {
    const options = { ...EPISODE_SEARCH, scope: { userId: 'ana' }, limit: 50 };
    const sorted = (rows: Array<{ text: string; score: number }>) =>
      rows.map(({ text, score }) => `${score.toFixed(9)} ${text}`).sort();
    const size = (
      await searchStatistics(test.database, options.scope, [
        { table: 'memory_episodes', queries: ['Which dog did Evan adopt?'] },
      ])
    )[0]![0]!;
    for (const query of ['Which dog did Evan adopt?', 'Evan beagle', 'Evan', 'beagle shelter', 'the of and', 'zebra']) {
      const { result, statements } = await explained((db) =>
        lexicalSearchInScope<{ text: string }>(db, { ...options, query }, size),
      );
      const alone = await lexicalSearch<{ text: string }>(test.database, { ...options, query });
      expect(sorted(result)).toEqual(sorted(alone));
      expect(statements).toHaveLength(1);
    }
    // A large scope is searched as lexicalSearch does: statistics, then the search.
    const news = (
      await searchStatistics(test.database, { agentId: 'news' }, [{ table: 'memory_episodes', queries: ['rain'] }])
    )[0]![0]!;
    const large = await explained((db) =>
      lexicalSearchInScope<{ text: string }>(db, { ...options, scope: { agentId: 'news' }, query: 'rain' }, news),
    );
    expect(large.statements).toHaveLength(2);
    expect(large.result).toHaveLength(50);
  });

  it('asks no ranking statement of an empty scope', async () => {
    const { result, statements } = await explained((db) =>
      lexicalSearch(db, { ...FACT_SEARCH, scope: { userId: 'ana' }, query: 'Which dog did Evan adopt?', limit: 5 }),
    );
    expect(result).toEqual([]);
    expect(statements).toHaveLength(1);
  });

  // A search returns up to a retrieve's depth of rows (84 for 1,000 tokens) and a prompt holds
  // fewer: the rows it may place are read whole with their replies (see RankedEpisodeRow).
  it("returns a few columns of each row from a retrieve's searches, and whole episodes", async () => {
    const {
      result: found,
      statements,
      returned,
    } = await explained(async (db) => {
      const memory = await recordedMemory(db);
      return memory.retrieve({ scope: { userId: 'ana' }, query: 'Which dog did Evan adopt?', maxTokens: 200 });
    });
    expect(found.episodes.find((episode) => episode.messageId === 'dog')).toMatchObject({
      text: 'Evan: I adopted a beagle from the shelter.',
      tags: [],
    });
    const searches = statements.filter((statement) => isSearch(statement));
    expect(searches).toHaveLength(1);
    // The columns asked for, the score and the tie-break: nothing else of the row's search.
    expect(returned).toEqual([['id', 'text', 'occurred_at', 'seq', 'score', 'match_tie']]);
  });

  // The news agent's 4,200 rows are a large scope, every word of this question in 2,100 of them:
  // the question's search scores its rarest word's newest 500 matches, each sentence's (a
  // sub-query, fused with it) the newest 200 (EXTRA_CANDIDATES in memory.ts).
  it("scores fewer rows of a large scope for a retrieve's sub-queries than for its question", async () => {
    const { result: found, statements } = await explained(async (db) => {
      const memory = await recordedMemory(db);
      return memory.retrieve({
        scope: { agentId: 'news' },
        query: 'Was there rain in the valley? Was there sun over the hills?',
        maxTokens: 200,
      });
    });
    expect(found.episodes.length).toBeGreaterThan(0);
    const searches = statements.filter((statement) => isSearch(statement));
    expect(searches).toHaveLength(3);
    expect(searches[0]).toContain('limit 500');
    for (const part of searches.slice(1)) expect(part).toContain('limit 200');
  });

  // "Did Rain and Sun both enjoy a picnic?" has a part per name, "Rain enjoy a picnic" and "Sun
  // enjoy a picnic". The news agent has no row that says "enjoy" or "picnic": each part is a word
  // of the question in 2,100 of its 4,200 rows, whose list would be its newest 200 matches ranked
  // by length. Those parts run no search (the test above: parts with all their words in the scope do).
  it("runs no search for a large scope's sub-query that echoes the question's common words", async () => {
    const {
      result: found,
      statements,
      parameters,
    } = await explained(async (db) => {
      const memory = await recordedMemory(db);
      return memory.retrieve({
        scope: { agentId: 'news' },
        query: 'Did Rain and Sun both enjoy a picnic?',
        maxTokens: 200,
      });
    });
    expect(found.episodes.length).toBeGreaterThan(0);
    const searched = statements.flatMap((statement, index) => (isSearch(statement) ? [parameters[index]!] : []));
    // The question's search and the feedback search of a question that joins two names.
    expect(searched).toHaveLength(2);
    expect(searched[0]).toContainEqual(['rain', 'sun']);
    for (const lexemes of searched) expect(lexemes).not.toContainEqual(['rain']);
    for (const lexemes of searched) expect(lexemes).not.toContainEqual(['sun']);
  });

  // BM25 by hand for rows of a large scope (a plain statement through the GIN index), a small one
  // (a prepared statement) and a small one of known size (one statement with its statistics).
  it("scores each row by BM25 with the scope's statistics", async () => {
    const bm25 = async (scope: { userId?: string; agentId?: string }, query: string, id: string) => {
      const statistics = (
        await searchStatistics(test.database, scope, [{ table: 'memory_episodes', queries: [query] }])
      )[0]![0];
      const row = await sql<{ length: number; terms: Array<{ lexeme: string; positions: number[] | null }> }>`
        select search_length as length, (select json_agg(json_build_object('lexeme', u.lexeme, 'positions', u.positions))
          from unnest(search) u) as terms
        from memory_episodes where id = ${id}`.execute(test.database.kysely);
      const { length, terms } = row.rows[0]!;
      let score = 0;
      for (const term of statistics!.terms) {
        const found = terms.find((candidate) => candidate.lexeme === term.lexeme);
        if (!found) continue;
        const tf = found.positions?.length ?? 1;
        const idf = Math.log(1 + (statistics!.rows - term.documents + 0.5) / (term.documents + 0.5));
        score += (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * length) / statistics!.averageLength));
      }
      return { score, statistics: statistics! };
    };
    const forum = await episodes(test.database, { agentId: 'forum' }, 'paddle kayak');
    expect(forum[0]!.score).toBeCloseTo((await bm25({ agentId: 'forum' }, 'paddle kayak', 'forum-1')).score, 9);
    const [kept] = await lexicalSearch<{ id: string; text: string }>(test.database, {
      ...EPISODE_SEARCH,
      columns: sql`t.id, t.text`,
      scope: { userId: 'ana' },
      query: 'Evan beagle shelter',
      limit: 1,
    });
    const expected = await bm25({ userId: 'ana' }, 'Evan beagle shelter', kept!.id);
    expect(kept!.text).toBe('Evan: I adopted a beagle from the shelter.');
    expect(kept!.score).toBeCloseTo(expected.score, 9);
    const [inScope] = await lexicalSearchInScope<{ id: string }>(
      test.database,
      { ...EPISODE_SEARCH, columns: sql`t.id`, scope: { userId: 'ana' }, query: 'Evan beagle shelter', limit: 1 },
      expected.statistics,
    );
    expect(inScope).toEqual({ id: kept!.id, score: expect.closeTo(expected.score, 9) });
  });

  // Last but one: it writes a fact into Ana's scope, which the tests above read empty.
  // A prepared statement gets a generic plan after five custom ones when it costs no more. A limit
  // passed as a parameter is costed as a tenth of the rows: in the news agent's 4,200 the read of
  // the recent episodes and the matches' replies was planned anew at every retrieve.
  it("plans a large scope's read of recent episodes and replies once (a generic plan)", async () => {
    const memory = await createMemory({ database: test.database, migrate: false });
    for (let attempt = 0; attempt < 8; attempt++) {
      const found = await memory.retrieve({ scope: { agentId: 'news' }, query: 'rain in the valley', maxTokens: 200 });
      expect(found.episodes.length).toBeGreaterThan(0);
    }
    const plans = await sql<{ generic: number; custom: number }>`select sum(generic_plans)::int as generic,
      sum(custom_plans)::int as custom from pg_prepared_statements
      where statement like '%of_id%' and statement like ${`%"t"."agent_id" in ('', %`}`.execute(test.database.kysely);
    expect(plans.rows[0]!.generic).toBeGreaterThanOrEqual(3);
    expect(plans.rows[0]!.custom).toBeLessThanOrEqual(5);
  });

  it('rejects a recent-episodes limit that is not an integer from 0 with INVALID_ARGUMENT', async () => {
    const memory = await createMemory({ database: test.database, migrate: false });
    for (const limit of [-1, 1.5, Number.NaN]) {
      await expect(memory.recentEpisodes({ agentId: 'news' }, limit)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    }
    expect((await memory.recentEpisodes({ agentId: 'news' }, 2)).map((episode) => episode.text)).toEqual([
      'Sun over the hills, note 4200',
      'Sun over the hills, note 4199',
    ]);
  });

  it("reads the statistics of a retrieve's facts and episodes in one statement, as each alone", async () => {
    await sql`insert into memory_facts (id, user_id, key, text, created_at, updated_at)
      values ('f-beagle', 'ana', 'pet', 'Ana walks the beagle Evan adopted', 0, 0)`.execute(test.database.kysely);
    const scope = { userId: 'ana' };
    const episodeQueries = ['Which dog did Evan adopt?', 'the of and', 'weather day 7'];
    const { result, statements } = await explained((db) =>
      searchStatistics(db, scope, [
        { table: 'memory_facts', queries: ['Which dog did Evan adopt?'] },
        { table: 'memory_episodes', queries: episodeQueries },
      ]),
    );
    expect(statements).toHaveLength(1);
    const [facts] = await searchStatistics(test.database, scope, [
      { table: 'memory_facts', queries: ['Which dog did Evan adopt?'] },
    ]);
    const [episodes] = await searchStatistics(test.database, scope, [
      { table: 'memory_episodes', queries: episodeQueries },
    ]);
    expect(result).toEqual([facts, episodes]);
    expect(facts![0]).toMatchObject({ rows: 1, terms: [{ lexeme: 'adopt' }, { lexeme: 'evan' }] });
    expect(episodes![1]!.terms).toEqual([]); // stop words only
    expect(episodes![0]!.rows).toBeGreaterThan(1);
  });

  // After the test above (its fact is Ana's first). "Evan" is in two of Ana's three facts, over
  // half of them: in episodes it would pick no rows, in facts it does (a fact is about its subject).
  it('matches facts by a name in most of them, unlike episodes', async () => {
    await sql`insert into memory_facts (id, user_id, key, text, created_at, updated_at) values
      ('f-hiking', 'ana', 'evan-hobby', 'Evan is into hiking', 0, 0),
      ('f-chess', 'ana', 'ben-hobby', 'Ben plays chess on Sundays', 0, 0)`.execute(test.database.kysely);
    const options = { ...FACT_SEARCH, scope: { userId: 'ana' }, query: 'Would Evan enjoy chess?', limit: 5 };
    const facts = await lexicalSearch<{ text: string }>(test.database, options);
    expect(facts.map((row) => row.text).sort()).toEqual([
      'Ana walks the beagle Evan adopted',
      'Ben plays chess on Sundays',
      'Evan is into hiking',
    ]);
    // The one-statement search of a small scope matches facts the same way.
    const [statistics] = await searchStatistics(test.database, options.scope, [
      { table: 'memory_facts', queries: [options.query] },
    ]);
    const inScope = await lexicalSearchInScope<{ text: string }>(test.database, options, statistics![0]!);
    expect(inScope.map((row) => row.text)).toEqual(facts.map((row) => row.text));
    for (const [index, row] of inScope.entries()) expect(row.score).toBeCloseTo(facts[index]!.score, 9);
  });
});
