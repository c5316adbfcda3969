/**
 * The Memory class, memory's public face: it checks and composes the fact, episode, embedding and
 * forgetting functions (facts.ts, episode-recording.ts, memory-embeddings.ts, forgetting.ts) and
 * holds the retrieval for prompts.
 */
import { AgentrixEvents, type ChatModel, randomId, serializeError, systemClock } from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';
import type { Database } from '@agentrix/store';
import { type RawBuilder, sql } from 'kysely';
import { bridgeQuery, feedbackSearch, speakersOf } from './bridge-query.js';
import { askedPeople, asksPreference, DISCLOSURE_QUERY, disclosures } from './disclosure.js';
import { EmbeddingCache } from './embedding-cache.js';
import { recordEpisodes } from './episode-recording.js';
import { closedError } from './errors.js';
import { factWritten, forgetFact, getFact, prepareFact, searchFacts, upsertFact } from './facts.js';
import { type ForgetResult, forgetThread, forgetUser } from './forgetting.js';
import {
  lexicalSearches,
  lexicalSearchInScope,
  matchesCommonWordsOnly,
  type QueryStatistics,
  ranksNewestOnly,
  SCOPE_SCAN_ROWS,
  searchStatistics,
} from './lexical-search.js';
import type { MemoryContext } from './memory-context.js';
import { rankByVector } from './memory-embeddings.js';
import type { MemoryOptions, RecordEpisodeInput, RememberInput, RetrieveOptions } from './memory-options.js';
import { contextWindows, distinctLines, fillPrompt, NO_CONTEXT, type PromptHit } from './memory-prompt.js';
import { embeddingColumn, memoryMigrations } from './migrations.js';
import { joinsNames, rewriteQuery, rewriteWithModel, withKindQuery } from './query-rewrite.js';
import { reciprocalRankFusion } from './rank-fusion.js';
import { EPISODE_COLUMNS, type Episode, type EpisodeRow, type Fact, toEpisode } from './records.js';
import { type MemoryQueryScope, type MemoryScope, scopeCondition, scopeOwners } from './scope.js';
import { TableStatistics } from './table-statistics.js';
import { estimateTokens, type TokenCounter } from './tokens.js';
import { withVerbForms } from './verb-forms.js';

/** What {@link Memory.retrieve} found, ready for a prompt. */
export interface RetrievedMemory {
  facts: Array<Fact & { score: number }>;
  episodes: Episode[];
  /** The facts and episodes as one block of text for a system message ('' when nothing was found). */
  text: string;
  /** Tokens of `text` by the memory's counter. */
  tokens: number;
  /** True when vector similarity took part (an embedder is configured and answered). */
  vector: boolean;
}

const DEFAULT_MAX_TEXT = 4000;
/**
 * A reply short enough to keep with the turn that matched: the follow-up ("Yeah, good idea! I'll
 * give it a try.") or the answer to a question that matched. bench/memory, tuning seeds, recall
 * at 10% of the tokens: no neighbours 62%, up to 24 tokens 85%, up to 40 or any length 85%. Only
 * the turn after, not the one before too: held-out 81.8% -> 86.5%, tuning 84.7% -> 85.3% (the
 * turns before spent a budget that now holds more matches; see docs/memory-benchmarks.md).
 */
const NEIGHBOUR_TOKENS = 24;
/**
 * The reply to a matched turn that ends with a question ("What are you reading these days,
 * Jo?") is its answer, kept with it up to this length, whatever the reply's own words ("'Small
 * Things Like These', short but it stays with you."). bench/memory at 10%, lists held-out (dense
 * conversations with lists said over months) 87.2% -> 87.8% (multi-hop 60.0% -> 63.3%), at 5%
 * 80.0% -> 81.7%, `withMemory` 85.6% -> 87.2%; no cell lower. 48 and 80 gave the same figures.
 * Not for a question about a preference: its evidence is the person's own statements, which
 * fill what the matches leave; with distilled facts taking budget, the answers displaced them
 * (held-out, distilled, 92.4% -> 90.6%, open-domain 70% -> 55%; session 16,
 * docs/memory-benchmarks.md).
 */
const ANSWER_TOKENS = 80;
/** True when a transcript line ends with a question: the turn after it is its answer. */
const asks = (line: string) => /\?\s*$/.test(line);
/** Rows each ranked list contributes to a fusion at least. */
const FUSION_DEPTH = 20;
/** Episodes the second (bridge) query contributes: the few that name what the first hop found. */
const BRIDGE_RESULTS = 5;
/**
 * Rows a large scope's extra searches (the sub-queries, the second hop, the feedback search)
 * score at most, against the question's 1,000 (`CANDIDATES` in lexical-search.ts): in such a
 * scope a sub-query is often a name or two alone ("Maria pastime enjoy" is {maria} in an agent's
 * 50,000 rows), whose list of a common word's newest matches ranks rows by their length. A
 * scope of at most 1,500 rows (a conversation, the recall bench) is scored whole whatever this
 * says. bench/memory, one agent's 50,000 of 100,000 rows, the latency section's 34 questions: 4
 * of 56 search statements change (overlap@20 0.63, @84 0.69 of their lists), the prompts keep
 * 99.45% of their episodes; "What pastime do Maria and Evan both enjoy?" 45 -> 33 ms of CPU a
 * retrieve (250: the same CPU, 97.8% of the prompts' episodes).
 */
const EXTRA_CANDIDATES = 400;
/**
 * Rows of the disclosure search (disclosure.ts) read for the asked person's statements, best first
 * by BM25 of the marker words; the search runs in a scope of at most `SCOPE_SCAN_ROWS` rows (a
 * conversation, a user's memory), where it costs one statement of ~2 ms of CPU. In one agent's
 * 50,000 rows (bench/memory's latency section) 4 of its 34 questions left budget, and the search
 * of common words there cost 1 ms of CPU a retrieve on average (14.45 -> 15.43, p95 41 -> 47 ms),
 * for statements by everyone of the asked name.
 */
const DISCLOSURE_CANDIDATES = 200;

/** An episode row with its insertion order (`seq`), for the neighbours of a turn and the order in a prompt. */
type OrderedEpisodeRow = EpisodeRow & { seq: string | number };
const ORDERED_EPISODE_COLUMNS = [...EPISODE_COLUMNS, 'seq'] as const;
/** Those columns of the episodes table aliased `t`, as the recent query and full rows select them. */
const EPISODE_SELECT = sql.join(ORDERED_EPISODE_COLUMNS.map((name) => sql.ref(`t.${name}`)));
/** Row `n` is in the conversation of row `e`: the same scope columns. */
const SAME_CONVERSATION = sql`n.user_id = e.user_id and n.agent_id = e.agent_id and n.thread_id = e.thread_id
  and n.namespace = e.namespace`;
/**
 * What ranking and a prompt read of an episode; the searches return only these, and the rows
 * returned come whole from the statement of their replies ({@link Memory#recentAndReplies}).
 * bench/memory, one agent's 51 search statements at 100,000 rows, each returning up to 84 rows:
 * 6.2-6.7 -> 5.3-5.6 ms of CPU a statement with these columns instead of all 14, same lists.
 */
type RankedEpisodeRow = Pick<OrderedEpisodeRow, 'id' | 'text' | 'occurred_at' | 'seq'>;
const RANKED_SELECT = sql.join(['id', 'text', 'occurred_at', 'seq'].map((name) => sql.ref(`t.${name}`)));

/**
 * Episodic and semantic memory on an Agentrix {@link Database} (PGlite or Postgres), with
 * full-text search everywhere and vector similarity when an embedder is configured. Create it
 * with {@link createMemory}; wire it into agents with `withMemory(model, memory)`.
 */
export class Memory implements AsyncDisposable {
  readonly database: Database;
  /** The stream it emits on: `options.events`, else its own. */
  readonly events: AgentrixEvents;
  readonly countTokens: TokenCounter;
  readonly #summaryTier: string;
  readonly #rewrite: ChatModel | undefined;
  readonly #disabled: Set<string>;
  /** @internal The planner's statistics, kept up to date as autovacuum would (PGlite has none). */
  readonly statistics: TableStatistics;
  /** What the fact, episode, embedding and forgetting functions share. */
  readonly #context: MemoryContext;
  #closing: Promise<void> | undefined;

  /** Use {@link createMemory}, which also applies the migrations. */
  constructor(options: MemoryOptions) {
    if (!options?.database) throw invalidArgument('createMemory needs { database }: open one with openDatabase(url)');
    this.database = options.database;
    this.#summaryTier = options.summaryTier ?? 'small';
    this.#rewrite = options.rewrite;
    const maxText = options.maxTextLength ?? DEFAULT_MAX_TEXT;
    if (!Number.isInteger(maxText) || maxText < 64) {
      throw invalidArgument(`maxTextLength must be an integer of at least 64, got ${options.maxTextLength}`);
    }
    this.countTokens = options.countTokens ?? estimateTokens;
    this.#disabled = new Set(options.disabledAgents ?? []);
    this.events = options.events ?? new AgentrixEvents();
    this.statistics = new TableStatistics(this.database.kysely);
    this.#context = {
      database: this.database,
      events: this.events,
      clock: options.clock ?? systemClock,
      generateId: options.generateId ?? randomId,
      model: options.model,
      summaryTier: this.#summaryTier,
      embeddings: options.embedder ? new EmbeddingCache(options.embedder) : undefined,
      column: options.embedder ? embeddingColumn(options.embedder.dimensions) : undefined,
      maxText,
      statistics: this.statistics,
    };
  }

  /** Texts sent to the embedder so far (each distinct text once). */
  get embeddedTexts(): number {
    return this.#context.embeddings?.embedded ?? 0;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  // ---- switches -------------------------------------------------------------------------------

  /** Turns memory off for an agent: `withMemory` passes its calls through and writes nothing. */
  disable(agentId: string): void {
    this.#disabled.add(agentId);
  }

  enable(agentId: string): void {
    this.#disabled.delete(agentId);
  }

  isEnabled(agentId: string | undefined): boolean {
    return agentId === undefined || !this.#disabled.has(agentId);
  }

  // ---- semantic memory ------------------------------------------------------------------------

  /**
   * Stores a stable fact. The same `key` in the same scope updates the fact in place (keeping
   * its id, taking the new source episode id). Text over the length limit is cut with a marker.
   */
  async remember(input: RememberInput): Promise<Fact> {
    this.#checkOpen('remember');
    const written = await upsertFact(this.#context, this.database.kysely, await prepareFact(this.#context, input));
    factWritten(this.#context, written);
    return written.fact;
  }

  /** The fact stored under `key` in exactly this scope, if any. */
  getFact(scope: MemoryScope, key: string): Promise<Fact | undefined> {
    return getFact(this.#context, scope, key);
  }

  /** Deletes one fact; true when it existed. */
  forgetFact(scope: MemoryScope, key: string): Promise<boolean> {
    return forgetFact(this.#context, scope, key);
  }

  /**
   * The top `limit` facts `scope` may see for `query`: full-text search ranked by BM25 (see
   * {@link lexicalSearch}) fused by reciprocal rank with vector similarity when an embedder is
   * configured, then de-duplicated by normalized text.
   */
  async searchFacts(
    scope: MemoryQueryScope,
    query: string,
    limit = 10,
    signal?: AbortSignal,
  ): Promise<{ facts: Array<Fact & { score: number }>; vector: boolean }> {
    this.#checkOpen('search');
    // Searched as retrieve searches them: a "did" or perfect question with its irregular verb's other forms.
    const [statistics] = await searchStatistics(this.database, scope, [
      { table: 'memory_facts', queries: [withVerbForms(query)] },
    ]);
    return searchFacts(this.#context, scope, query, limit, signal, statistics![0]);
  }

  // ---- episodic memory ------------------------------------------------------------------------

  /**
   * Summarizes an exchange with the small model (a zod-checked JSON summary, retried once with
   * the validation error) and stores it as an episode; the summary's stable facts are written to
   * semantic memory with this episode as their source, in the same transaction. A summary that
   * fails twice, a failing model, or no model at all store the transcript as a plain-text episode
   * flagged `unstructured`. With a `messageId` the episode is recorded once per (agent, message):
   * a second call returns the stored one (a redelivered turn) and asks no model.
   */
  async recordEpisode(input: RecordEpisodeInput): Promise<Episode> {
    const [episode] = await this.recordEpisodes([input], { signal: input?.signal });
    return episode!;
  }

  /**
   * Records many exchanges at once, as {@link recordEpisode} does each, in the order given: an
   * import of an existing history (pass each turn's `occurredAt`, and a `messageId` so importing
   * again writes nothing twice). The texts are embedded in one call, and the episodes and their
   * facts written in one transaction, up to 500 episodes a statement: a crash leaves all of them
   * or none. Returns the episodes in the order of `inputs` (the stored one for a message recorded
   * before); an empty list records nothing.
   */
  async recordEpisodes(
    inputs: readonly RecordEpisodeInput[],
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<Episode[]> {
    this.#checkOpen('record an episode');
    return recordEpisodes(this.#context, inputs, options.signal);
  }

  /** The most recent episodes `scope` may see, newest first. */
  async recentEpisodes(scope: MemoryQueryScope, limit = 5): Promise<Episode[]> {
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw invalidArgument(`recentEpisodes needs limit as an integer from 0, got ${String(limit)}`);
    }
    return (await this.#recent(scope, limit)).map(toEpisode);
  }

  /** The episodes most relevant to `query` (BM25 full text, plus vectors when configured), best first. */
  async searchEpisodes(scope: MemoryQueryScope, query: string, limit = 5, signal?: AbortSignal): Promise<Episode[]> {
    this.#checkOpen('search');
    const parts = await this.#subQueries(scope, query, signal);
    const [statistics] = await searchStatistics(this.database, scope, [
      { table: 'memory_episodes', queries: [query, ...parts].map(withVerbForms) },
    ]);
    const { rows } = await this.#rankEpisodes(scope, query, parts, statistics!, limit, signal);
    const whole = await this.#wholeRows(rows.map((row) => row.id));
    return rows.map((row) => toEpisode(whole.get(row.id)!));
  }

  // ---- retrieval for a prompt -----------------------------------------------------------------

  /**
   * Facts and episodes for a prompt, filling `maxTokens` best first instead of fixed counts: facts
   * and episodes ranked by BM25 (fused with vectors when configured), each matching episode with
   * the short turn after it (the follow-up or the answer that replies to it), and the
   * two most recent episodes; printed with one date header per day in the order they were said.
   * An empty query retrieves the recent episodes only; a budget too small for a line retrieves
   * nothing (`text` is ''); the text never exceeds `maxTokens` by the memory's counter.
   */
  async retrieve(options: RetrieveOptions): Promise<RetrievedMemory> {
    this.#checkOpen('retrieve');
    const started = performance.now();
    if (typeof options?.query !== 'string') {
      throw invalidArgument(`retrieve needs { scope, query } with a string query, got ${typeof options?.query}`);
    }
    const budget = options.maxTokens ?? 1000;
    if (!Number.isSafeInteger(budget) || budget < 0) {
      throw invalidArgument(`retrieve needs maxTokens as an integer from 0, got ${String(options.maxTokens)}`);
    }
    for (const name of ['facts', 'recentEpisodes', 'relevantEpisodes'] as const) {
      const value = options[name];
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
        throw invalidArgument(`retrieve needs ${name} as an integer from 0 or none, got ${String(value)}`);
      }
    }
    // Candidates enough to fill the budget: a hit with its neighbours is rarely under 12 tokens.
    const candidates = Math.min(400, Math.max(20, Math.ceil(budget / 12)));
    // Each line is counted once per call (tokenizing is most of the work in process).
    const counted = new Map<string, number>();
    const countTokens = (text: string) => {
      const known = counted.get(text);
      if (known !== undefined) return known;
      const tokens = this.countTokens(text);
      counted.set(text, tokens);
      return tokens;
    };
    const { scope, query, signal } = options;
    const factLimit = budget > 0 ? (options.facts ?? candidates) : 0;
    const relevantLimit = budget > 0 ? Math.min(options.relevantEpisodes ?? candidates, candidates) : 0;
    // The parts of a multi-part question (by the model when one is set), searched with it.
    const parts = relevantLimit > 0 ? await this.#subQueries(scope, query, signal) : [];
    // The facts' and the episodes' search statistics in one statement.
    const asked = withVerbForms(query);
    const [factStatistics, episodeStatistics] = await searchStatistics(this.database, scope, [
      { table: 'memory_facts', queries: factLimit > 0 ? [asked] : [] },
      { table: 'memory_episodes', queries: relevantLimit > 0 ? [asked, ...parts.map(withVerbForms)] : [] },
    ]);
    this.#checkOpen('retrieve');
    const { facts, vector } =
      factLimit > 0
        ? await searchFacts(this.#context, scope, query, factLimit, signal, factStatistics![0])
        : { facts: [], vector: false };
    const ranked =
      relevantLimit > 0
        ? await this.#rankEpisodes(scope, query, parts, episodeStatistics!, relevantLimit, signal)
        : { rows: [], vector: false };
    // A line said again and again is one match in the prompt (see distinctLines); a search keeps them.
    const rows = distinctLines(ranked.rows);
    const recentLimit = options.recentEpisodes ?? 2;
    const lines = linesAgainst(rows, budget, countTokens);
    const { recent, replies, whole } = await this.#recentAndReplies(
      scope,
      recentLimit > 0 && budget > 0 ? recentLimit : 0,
      rows.slice(0, lines.within).map((row) => row.id),
    );
    // A short reply goes with its match, and an answer with the question that matched (see
    // ANSWER_TOKENS); a longer one fills what the matches leave. Each reply counted once.
    const preference = asksPreference(query);
    const hits: PromptHit<PromptEpisodeOf>[] = [];
    const rest: PromptEpisodeOf[] = [];
    for (const row of rows) {
      const reply = replies.get(row.id);
      const limit = !preference && asks(row.text) ? ANSWER_TOKENS : NEIGHBOUR_TOKENS;
      const short = reply !== undefined && countTokens(reply.text) <= limit;
      hits.push({ episode: toPromptEpisode(row), neighbours: short ? [reply] : [] });
      if (reply !== undefined && !short) rest.push(reply);
    }
    // A question about what a person would like, whose matches leave budget: that person's own
    // statements of feeling, preference or habit fill the rest (see disclosure.ts and DISCLOSURE_CANDIDATES).
    // When only common words matched (a name: its matches are then that speaker's shortest turns,
    // see matchesCommonWordsOnly), they come before the matches. The person is one the question
    // names who said one of the turns read so far. They are relevant episodes: a
    // `relevantEpisodes` cap leaves them out.
    const people =
      options.relevantEpisodes === undefined &&
      relevantLimit > 0 &&
      preference &&
      episodeStatistics![0]!.rows <= SCOPE_SCAN_ROWS
        ? askedPeople(query, speakersOf([...whole.values()]))
        : [];
    const first = people.length > 0 && matchesCommonWordsOnly(episodeStatistics![0]!);
    const disclosed =
      people.length > 0 && (lines.tokens < budget || first)
        ? disclosures(
            await this.#searchEpisodes(scope, DISCLOSURE_QUERY, DISCLOSURE_CANDIDATES, episodeStatistics![0]!),
            people,
          ).map(toPromptEpisode)
        : [];
    const placed = first ? [...disclosed.map((episode) => ({ episode, neighbours: [] })), ...hits] : hits;
    const fill = (context: readonly PromptEpisodeOf[]) =>
      fillPrompt({
        facts,
        hits: placed,
        recent,
        rest: [...rest, ...(first ? [] : disclosed), ...context],
        maxTokens: budget,
        countTokens,
      });
    let filled = fill([]);
    // What every other item leaves is spent on the conversation around the best matches, nearest
    // turns first (see contextWindows), read only then. They are relevant episodes too: a
    // `relevantEpisodes` cap leaves them out, as the self-disclosures.
    const around =
      options.relevantEpisodes === undefined
        ? contextWindows(rows.length, lines.tokens, budget - filled.tokens)
        : NO_CONTEXT;
    if (around.hits > 0) {
      const best = rows.slice(0, around.hits);
      const windows = await this.#windows(
        best.map((row) => row.id),
        around.radius,
        whole,
      );
      const context: PromptEpisodeOf[] = [];
      for (let distance = 1; distance <= around.radius; distance++) {
        for (const row of best) {
          const window = windows.get(row.id);
          // The turn just after a match is its reply, placed with it or among the longer replies.
          const before = window?.before[distance - 1];
          const after = window?.after[distance - 2];
          if (before) context.push(before);
          if (after) context.push(after);
        }
      }
      filled = fill(context);
    }
    // A match placed past the rows whose replies were read (0.15 a retrieve, bench/memory) is read whole here.
    await this.#wholeRows(
      filled.episodes.filter((episode) => !whole.has(episode.id)).map((episode) => episode.id),
      whole,
    );
    const episodes = filled.episodes.map((episode) => toEpisode(whole.get(episode.id)!));
    this.events.emit('memory.retrieved', {
      facts: filled.facts.length,
      episodes: episodes.length,
      episodeIds: episodes.map((episode) => episode.id),
      tokens: filled.tokens,
      durationMs: performance.now() - started,
      vector: vector || ranked.vector,
    });
    return { facts: filled.facts, episodes, text: filled.text, tokens: filled.tokens, vector: vector || ranked.vector };
  }

  /** Episodes ranked by BM25 and vectors (when configured), fused, with their insertion order. */
  async #rankEpisodes(
    scope: MemoryQueryScope,
    query: string,
    parts: readonly string[],
    statistics: readonly QueryStatistics[],
    limit: number,
    signal: AbortSignal | undefined,
  ): Promise<{ rows: RankedEpisodeRow[]; vector: boolean }> {
    // Each list deep enough for fusion to matter: the best of a sub-query may be 10th of the question's.
    const depth = Math.max(limit, FUSION_DEPTH);
    // A sub-query that only echoes the question's common words in a large scope runs no search.
    const searched = parts.flatMap((text, index) =>
      echoesQuestion(statistics[0]!, statistics[index + 1]!) ? [] : [{ text, statistics: statistics[index + 1]! }],
    );
    const [textRanked = [], ...partRanked] = await lexicalSearches<RankedEpisodeRow>(
      this.database,
      {
        table: 'memory_episodes',
        columns: RANKED_SELECT,
        scope,
        queries: [
          { query, limit: depth },
          ...searched.map(({ text }) => ({ query: text, limit: depth, candidates: EXTRA_CANDIDATES })),
        ],
        tieBreak: sql`t.occurred_at`,
      },
      [statistics[0]!, ...searched.map((part) => part.statistics)],
    );
    const vectorRanked = await rankByVector<OrderedEpisodeRow>(
      this.#context,
      'memory_episodes',
      ORDERED_EPISODE_COLUMNS,
      scope,
      query,
      depth,
      signal,
    );
    // A second hop by rule: the names the best episodes introduce, for the half of a multi-hop
    // question that shares no word with it (bench/memory: multi-hop 15% -> see docs/memory-benchmarks.md).
    const speakers = speakersOf(textRanked);
    const bridge = bridgeQuery(query, textRanked, speakers);
    const bridged = bridge ? await this.#searchEpisodes(scope, bridge, BRIDGE_RESULTS, statistics[0]!) : [];
    // A question about two people asks about one subject ("Which game do Ana and Ben both play?"):
    // the rare words of the best episodes found for it, searched again (see docs/memory-benchmarks.md).
    const fedBack = joinsNames(query)
      ? await feedbackSearch({
          query,
          ranked: reciprocalRankFusion([textRanked, ...partRanked], (row) => row.id),
          speakers,
          search: (feedback, feedbackLimit) => this.#searchEpisodes(scope, feedback, feedbackLimit, statistics[0]!),
          limit: BRIDGE_RESULTS,
        })
      : [];
    const rows = reciprocalRankFusion(
      [textRanked, vectorRanked ?? [], ...partRanked, bridged, fedBack],
      (row) => row.id,
    ).slice(0, limit);
    return { rows, vector: vectorRanked !== undefined };
  }

  /**
   * One BM25 search of the episodes of `scope` (the second hop's and the feedback's), whose size
   * the question's statistics gave: one statement in a small scope.
   */
  #searchEpisodes(
    scope: MemoryQueryScope,
    query: string,
    limit: number,
    size: QueryStatistics,
  ): Promise<RankedEpisodeRow[]> {
    return lexicalSearchInScope<RankedEpisodeRow>(
      this.database,
      {
        table: 'memory_episodes',
        columns: RANKED_SELECT,
        scope,
        query,
        limit,
        tieBreak: sql`t.occurred_at`,
        candidates: EXTRA_CANDIDATES,
      },
      size,
    );
  }

  /**
   * The sub-queries of a question: the rewrite model's when one is set (its failure is reported
   * and the rules take over), else {@link rewriteQuery}'s rules; [] for a question of one part.
   * Either way with the search for the things of a kind it asks for (withKindQuery).
   */
  async #subQueries(scope: MemoryQueryScope, query: string, signal: AbortSignal | undefined): Promise<string[]> {
    if (query.trim() === '') return [];
    if (this.#rewrite) {
      try {
        const parts = await rewriteWithModel({ model: this.#rewrite, tier: this.#summaryTier, query, scope, signal });
        return withKindQuery(query, parts);
      } catch (error) {
        if (signal?.aborted) throw error;
        this.events.emit('memory.rewrite-failed', { error: serializeError(error) });
      }
    }
    return rewriteQuery(query);
  }

  /**
   * The newest `limit` episodes of `scope`: the newest of each (user, agent) pair it sees, each
   * read in order from the recent index, then merged. One statement ordering the whole scope
   * sorted all of it: one agent's 50,000 of 100,000 rows, 75 ms of CPU on PGlite (bench/memory).
   */
  #recentQuery(scope: MemoryQueryScope, limit: number): RawBuilder<OrderedEpisodeRow> {
    const where = scopeCondition(scope);
    // The limit is written into the statement (a checked integer): a prepared statement's generic
    // plan assumes a limit given as a parameter reads a tenth of the rows, which in one agent's
    // 50,000 costed it above a custom plan, so Postgres planned the replies' read anew at every
    // retrieve (pg_prepared_statements: 68 custom plans, 0 generic; bench/memory, interleaved:
    // see docs/memory-benchmarks.md, the sixth pass).
    const newest = sql.lit(limit);
    const owners = scopeOwners(scope).map(
      (owner) => sql`(select ${EPISODE_SELECT} from memory_episodes t
        where t.user_id = ${owner.user_id} and t.agent_id = ${owner.agent_id} and ${where}
        order by t.occurred_at desc, t.seq desc limit ${newest})`,
    );
    return sql<OrderedEpisodeRow>`select * from (${sql.join(owners, sql` union all `)}) recent
      order by occurred_at desc, seq desc limit ${newest}`;
  }

  async #recent(scope: MemoryQueryScope, limit: number): Promise<OrderedEpisodeRow[]> {
    return (await this.#prepared(this.#recentQuery(scope, limit))).rows;
  }

  /**
   * Runs one of the retrieve's reads of a fixed shape (the recent episodes, whole rows, replies)
   * as a prepared statement: its text depends on the scope's shape only, its plan on no value.
   * bench/memory, one agent's 100,000-row directory: recent and replies 5.40 -> 4.53 ms of CPU a
   * statement (see PglitePreparedClient in @agentrix/store).
   */
  #prepared<Row>(query: RawBuilder<Row>) {
    return this.database.executePrepared(query.compile(this.database.kysely));
  }

  /** Every column of the episodes `ids` (a search returns a few), by id: one statement, none for no ids. */
  async #wholeRows(
    ids: readonly string[],
    into = new Map<string, OrderedEpisodeRow>(),
  ): Promise<Map<string, OrderedEpisodeRow>> {
    if (ids.length === 0) return into;
    const read = await this.#prepared(sql<OrderedEpisodeRow>`select ${EPISODE_SELECT} from memory_episodes t
      where t.id = any(${ids}::text[])`);
    for (const row of read.rows) into.set(row.id, row);
    return into;
  }

  /**
   * The newest `recentLimit` episodes of `scope`, each of `ids` whole and the turn after it (its
   * reply, in its own conversation: same scope columns; the match is the first row of that read,
   * its own `of_id`), in one statement: PGlite runs one statement at a time, ~0.7 ms of CPU each
   * however small. `whole` holds every row read, by id: the searches return a few columns.
   */
  async #recentAndReplies(
    scope: MemoryQueryScope,
    recentLimit: number,
    ids: readonly string[],
  ): Promise<{
    recent: PromptEpisodeOf[];
    replies: Map<string, PromptEpisodeOf>;
    whole: Map<string, OrderedEpisodeRow>;
  }> {
    const parts: RawBuilder<unknown>[] = [];
    if (recentLimit > 0)
      parts.push(sql`select null::text as of_id, r.* from (${this.#recentQuery(scope, recentLimit)}) r`);
    if (ids.length > 0) {
      const columns = sql.join(ORDERED_EPISODE_COLUMNS.map((name) => sql.ref(`n.${name}`)));
      parts.push(sql`select e.id as of_id, n.* from memory_episodes e
        cross join lateral (
          select ${columns} from memory_episodes n where ${SAME_CONVERSATION} and n.occurred_at >= e.occurred_at
            and (n.occurred_at, n.seq) >= (e.occurred_at, e.seq)
            order by n.occurred_at, n.seq limit 2
        ) n
        where e.id = any(${ids}::text[])`);
    }
    const recent: OrderedEpisodeRow[] = [];
    const replies = new Map<string, PromptEpisodeOf>();
    const whole = new Map<string, OrderedEpisodeRow>();
    if (parts.length === 0) return { recent: [], replies, whole };
    const result = await this.#prepared(
      sql<OrderedEpisodeRow & { of_id: string | null }>`${sql.join(parts, sql` union all `)}`,
    );
    for (const { of_id, ...row } of result.rows) {
      whole.set(row.id, row);
      if (of_id === null) recent.push(row);
      else if (of_id !== row.id) replies.set(of_id, toPromptEpisode(row));
    }
    // A union keeps no order: the newest first, as the recent statement ordered them.
    recent.sort((a, b) => byTime(b, a));
    return { recent: recent.map(toPromptEpisode), replies, whole };
  }

  /**
   * The `radius` turns on each side of each of `ids` in its own conversation (same scope
   * columns), nearest first, in one statement (the radius a parameter: one text, prepared once),
   * but the turn just after each: its reply, read with the matches (`after[0]` is 2 turns after).
   * Every row read whole into `whole`.
   */
  async #windows(
    ids: readonly string[],
    radius: number,
    whole: Map<string, OrderedEpisodeRow>,
  ): Promise<Map<string, EpisodeWindow>> {
    const columns = sql.join(ORDERED_EPISODE_COLUMNS.map((name) => sql.ref(`n.${name}`)));
    const result = await this.#prepared(sql<OrderedEpisodeRow & { of_id: string; side: number }>`
      select e.id as of_id, n.* from memory_episodes e cross join lateral (
        (select 1 as side, ${columns} from memory_episodes n where ${SAME_CONVERSATION}
          and n.occurred_at >= e.occurred_at and (n.occurred_at, n.seq) > (e.occurred_at, e.seq)
          order by n.occurred_at, n.seq offset 1 limit ${radius}::int - 1)
        union all
        (select -1 as side, ${columns} from memory_episodes n where ${SAME_CONVERSATION}
          and n.occurred_at <= e.occurred_at and (n.occurred_at, n.seq) < (e.occurred_at, e.seq)
          order by n.occurred_at desc, n.seq desc limit ${radius}::int)
      ) n
      where e.id = any(${ids}::text[])`);
    const windows = new Map<string, EpisodeWindow>();
    for (const { of_id, side, ...row } of result.rows) {
      whole.set(row.id, row);
      const window = windows.get(of_id) ?? { before: [], after: [] };
      windows.set(of_id, window);
      (side > 0 ? window.after : window.before).push(toPromptEpisode(row));
    }
    // A union keeps no order: each side nearest first.
    for (const window of windows.values()) {
      window.after.sort((a, b) => byTime(a.row, b.row));
      window.before.sort((a, b) => byTime(b.row, a.row));
    }
    return windows;
  }

  // ---- scopes ---------------------------------------------------------------------------------

  /** Deletes every fact and episode of a user, in every agent and namespace, in one transaction. */
  async forgetUser(userId: string): Promise<ForgetResult> {
    this.#checkOpen('forget a user');
    return forgetUser(this.#context, userId);
  }

  /**
   * Deletes what one conversation of an agent left: its episodes, the facts they taught (a fact
   * whose source is one of them, even one that follows its user into other threads), and the
   * facts kept for that thread only, in one transaction. Facts taught again in another thread
   * since (their source is that thread's episode now) stay; {@link forgetUser} removes a user.
   */
  async forgetThread(scope: { agentId: string; threadId: string }): Promise<ForgetResult> {
    this.#checkOpen('forget a thread');
    return forgetThread(this.#context, scope);
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /**
   * Stops accepting reads and writes. Leaves the database open (it is the caller's). Idempotent.
   * Writes happen inside turns (`withMemory`'s `commitTurn`): close the runtime first.
   */
  close(): Promise<void> {
    this.#closing ??= Promise.resolve();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- internals ------------------------------------------------------------------------------

  #checkOpen(operation: string): void {
    if (this.#closing) throw closedError(operation);
  }
}

/**
 * The lines of `rows` (best first, as a prompt prints them: no headers, no replies) against
 * `budget`: `tokens` of all of them, and how many of them need their replies (`within`). The prompt
 * takes a match only when its own line fits, so past the first rows whose lines alone add up to
 * more than `budget` it is full but for a short match or two, kept without a reply. bench/memory,
 * 100,000 rows, a budget of 1,000 tokens: one user's 19 matches on average, 17 within it; one
 * agent's 55, 30 within it, and 0.15 matches a retrieve taken past them (without a reply). Every
 * line is counted: the prompt filler counts every match's line anyway (counts are kept per retrieve).
 */
function linesAgainst(
  rows: readonly RankedEpisodeRow[],
  budget: number,
  countTokens: TokenCounter,
): { tokens: number; within: number } {
  let tokens = 0;
  let within = rows.length;
  for (const [index, row] of rows.entries()) {
    tokens += countTokens(row.text) + 1;
    if (tokens > budget && within === rows.length) within = index + 1;
  }
  return { tokens, within };
}

/**
 * True when a sub-query adds nothing to the question in a large scope: the words it has of its
 * own are not in the scope, and what is left are words of the question common enough that its
 * list would be their newest matches ranked by length ("Maria pastime enjoy" is {maria} in an
 * agent's 50,000 rows, where no row says "pastime" or "enjoy"; "Maria" is in thousands). Fused
 * at the weight of the question's best, such a list fills a prompt with the newest short rows
 * that say a name. A small scope's sub-queries are all searched (ranked exactly: the parts of a
 * multi-part question, bench/memory's recall). bench/memory, one agent's 50,000 of 100,000 rows:
 * 2 of the 34 latency questions skip such searches ("What activity did Maria suggest for Evan and
 * the dog?" one, its prompt the same; "What pastime do Maria and Evan both enjoy?" both, 43.8 ->
 * 28.3 ms of CPU a retrieve, its prompt keeping 41 of 80 lines: rows that name both of them
 * instead of the names' newest short rows); every other prompt the same.
 */
function echoesQuestion(question: QueryStatistics, part: QueryStatistics): boolean {
  const asked = new Set(question.terms.map((term) => term.lexeme));
  return (
    part.words > part.terms.length &&
    part.terms.every((term) => asked.has(term.lexeme)) &&
    ranksNewestOnly('memory_episodes', part, EXTRA_CANDIDATES)
  );
}

/** The turns around a match in its conversation, nearest first on each side. */
interface EpisodeWindow {
  before: PromptEpisodeOf[];
  after: PromptEpisodeOf[];
}

/** Oldest first, by the time said and then the order written. */
function byTime(
  a: Pick<OrderedEpisodeRow, 'occurred_at' | 'seq'>,
  b: Pick<OrderedEpisodeRow, 'occurred_at' | 'seq'>,
): number {
  return Number(a.occurred_at) - Number(b.occurred_at) || Number(a.seq) - Number(b.seq);
}

/** An episode as the prompt filler sees it, carrying its row. */
interface PromptEpisodeOf {
  id: string;
  text: string;
  occurredAt: number;
  seq: number;
  row: RankedEpisodeRow;
}

function toPromptEpisode(row: RankedEpisodeRow): PromptEpisodeOf {
  return { id: row.id, text: row.text, occurredAt: Number(row.occurred_at), seq: Number(row.seq), row };
}

/** Creates a memory on `options.database` and applies its migrations (unless `migrate: false`). */
export async function createMemory(options: MemoryOptions): Promise<Memory> {
  const memory = new Memory(options);
  if (options.migrate ?? true) {
    await options.database.migrate(memoryMigrations({ dimensions: options.embedder?.dimensions }), {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    });
  }
  await memory.statistics.open();
  return memory;
}
