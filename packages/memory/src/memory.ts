import {
  AgentrixError,
  AgentrixEvents,
  type ChatModel,
  type Clock,
  type IdGenerator,
  randomId,
  serializeError,
  systemClock,
  throwIfAborted,
} from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';
import { type Database, toVector, vectorSearch } from '@agentrix/store';
import { type QueryExecutorProvider, type RawBuilder, sql } from 'kysely';
import { bridgeQuery, speakersOf } from './bridge-query.js';
import { EmbeddingCache } from './embedding-cache.js';
import { type EpisodeSummary, renderSummary } from './episode-summary.js';
import { summarizeEpisode, transcript } from './episode-writer.js';
import { closedError } from './errors.js';
import { lexicalSearch } from './lexical-search.js';
import type { MemoryOptions, RecordEpisodeInput, RememberInput, RetrieveOptions } from './memory-options.js';
import { fillPrompt, type PromptHit } from './memory-prompt.js';
import { embeddingColumn, memoryMigrations } from './migrations.js';
import { rewriteQuery, rewriteWithModel } from './query-rewrite.js';
import { reciprocalRankFusion } from './rank-fusion.js';
import {
  EPISODE_COLUMNS,
  type Episode,
  type EpisodeRow,
  FACT_COLUMNS,
  type Fact,
  type FactRow,
  toEpisode,
  toFact,
} from './records.js';
import {
  callScope,
  type MemoryQueryScope,
  type MemoryScope,
  type ScopeColumns,
  scopeColumns,
  scopeCondition,
} from './scope.js';
import { TableStatistics } from './table-statistics.js';
import { normalizeText, truncateText } from './text.js';
import { estimateTokens, type TokenCounter } from './tokens.js';

/** The gateway scope tag of memory's embedding calls (summaries use `memory.summary`). */
const EMBEDDING_TAG = 'memory.embedding';

/** A fact validated and embedded, ready to be upserted (in a transaction of its own or an episode's). */
interface PreparedFact {
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

/** An episode to record, validated: what is known before it is summarized. */
interface PendingEpisode {
  id: string;
  scope: MemoryScope;
  columns: ScopeColumns;
  messageId: string | undefined;
  occurredAt: number;
}

/** An episode ready to be inserted. */
interface NewEpisode extends PendingEpisode {
  text: string;
  truncated: boolean;
  summary: EpisodeSummary | undefined;
  tags: string[];
  embedding: number[] | undefined;
}

/** Identifies a recorded message: one episode per (agent, message). */
const messageKey = (agentId: string, messageId: string | undefined) => `${agentId}\u0000${messageId ?? ''}`;

interface WrittenFact {
  fact: Fact;
  updated: boolean;
  truncated: boolean;
}

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

/** What {@link Memory.forgetUser} or {@link Memory.forgetThread} deleted. */
export interface ForgetResult {
  facts: number;
  episodes: number;
}

const DEFAULT_MAX_TEXT = 4000;
/**
 * Episodes one insert statement writes at most (14 parameters each, far below Postgres's 65,535):
 * bench/memory, ingestion, one statement of 500 turns against one statement per turn.
 */
const INSERT_ROWS = 500;
/** An event time this far past the clock is taken as the clock skew of another machine, not an error. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;
/**
 * A turn short enough to keep beside its neighbour that matched: a follow-up ("Yeah, good idea!
 * I'll give it a try.") or a question the match answers. bench/memory, tuning seeds, recall at
 * 10% of the tokens: no neighbours 62%, up to 24 tokens 85%, up to 40 or any length 85%; the
 * turn before only for a short match: 85% too, so the simpler rule stays.
 */
const NEIGHBOUR_TOKENS = 24;
/**
 * A scope of at most this many rows is compared row by row instead of through the HNSW index,
 * which has to walk ~limit / selectivity entries to find `limit` rows of one user among many.
 */
const EXACT_VECTOR_ROWS = 10_000;
/** Rows each ranked list contributes to a fusion at least. */
const FUSION_DEPTH = 20;
/** Episodes the second (bridge) query contributes: the few that name what the first hop found. */
const BRIDGE_RESULTS = 5;

/** An episode row with its insertion order (`seq`), for the neighbours of a turn and the order in a prompt. */
type OrderedEpisodeRow = EpisodeRow & { seq: string | number };
const ORDERED_EPISODE_COLUMNS = [...EPISODE_COLUMNS, 'seq'] as const;

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
  readonly #model: ChatModel | undefined;
  readonly #summaryTier: string;
  readonly #rewrite: ChatModel | undefined;
  readonly #embeddings: EmbeddingCache | undefined;
  readonly #column: string | undefined;
  readonly #maxText: number;
  readonly #clock: Clock;
  readonly #generateId: IdGenerator;
  readonly #disabled: Set<string>;
  /** @internal The planner's statistics, kept up to date as autovacuum would (PGlite has none). */
  readonly statistics: TableStatistics;
  #closing: Promise<void> | undefined;

  /** Use {@link createMemory}, which also applies the migrations. */
  constructor(options: MemoryOptions) {
    if (!options?.database) throw invalidArgument('createMemory needs { database }: open one with openDatabase(url)');
    this.database = options.database;
    this.#model = options.model;
    this.#summaryTier = options.summaryTier ?? 'small';
    this.#rewrite = options.rewrite;
    this.#embeddings = options.embedder ? new EmbeddingCache(options.embedder) : undefined;
    this.#column = options.embedder ? embeddingColumn(options.embedder.dimensions) : undefined;
    this.#maxText = options.maxTextLength ?? DEFAULT_MAX_TEXT;
    if (!Number.isInteger(this.#maxText) || this.#maxText < 64) {
      throw invalidArgument(`maxTextLength must be an integer of at least 64, got ${options.maxTextLength}`);
    }
    this.countTokens = options.countTokens ?? estimateTokens;
    this.#clock = options.clock ?? systemClock;
    this.#generateId = options.generateId ?? randomId;
    this.#disabled = new Set(options.disabledAgents ?? []);
    this.events = options.events ?? new AgentrixEvents();
    this.statistics = new TableStatistics(this.database.kysely);
  }

  /** Texts sent to the embedder so far (each distinct text once). */
  get embeddedTexts(): number {
    return this.#embeddings?.embedded ?? 0;
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
    const written = await this.#upsertFact(this.database.kysely, await this.#prepareFact(input));
    this.#factWritten(written);
    return written.fact;
  }

  /** The fact stored under `key` in exactly this scope, if any. */
  async getFact(scope: MemoryScope, key: string): Promise<Fact | undefined> {
    const columns = scopeColumns(scope);
    const result = await sql<FactRow>`select ${sql.join(FACT_COLUMNS.map((name) => sql.ref(name)))} from memory_facts
      where user_id = ${columns.user_id} and agent_id = ${columns.agent_id} and thread_id = ${columns.thread_id}
      and namespace = ${columns.namespace} and key = ${key}`.execute(this.database.kysely);
    return result.rows[0] ? toFact(result.rows[0]) : undefined;
  }

  /** Deletes one fact; true when it existed. */
  async forgetFact(scope: MemoryScope, key: string): Promise<boolean> {
    const columns = scopeColumns(scope);
    const result = await sql`delete from memory_facts where user_id = ${columns.user_id}
      and agent_id = ${columns.agent_id} and thread_id = ${columns.thread_id} and namespace = ${columns.namespace}
      and key = ${key}`.execute(this.database.kysely);
    return Number(result.numAffectedRows ?? 0) > 0;
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
    const candidates = Math.max(limit * 3, 20);
    const textRanked = await lexicalSearch<FactRow>(this.database.kysely, {
      table: 'memory_facts',
      columns: sql.join(FACT_COLUMNS.map((name) => sql.ref(`t.${name}`))),
      scope,
      query,
      limit: candidates,
      tieBreak: sql`t.updated_at`,
    });
    const vectorRanked = await this.#vector<FactRow>('memory_facts', FACT_COLUMNS, scope, query, candidates, signal);
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
   * facts written in one transaction, up to {@link INSERT_ROWS} episodes a statement: a crash
   * leaves all of them or none. Returns the episodes in the order of `inputs` (the stored one
   * for a message recorded before); an empty list records nothing.
   */
  async recordEpisodes(
    inputs: readonly RecordEpisodeInput[],
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<Episode[]> {
    this.#checkOpen('record an episode');
    if (!Array.isArray(inputs)) throw invalidArgument('recordEpisodes needs an array of { scope, messages }');
    const signal = options.signal;
    const pending = inputs.map((input) => this.#validateEpisode(input));
    const episodes = new Array<Episode | undefined>(pending.length);
    // Only a summary model makes a recorded message worth looking up first: it is not asked again.
    // Without one, the insert skips a recorded message and the stored episode is read after.
    if (this.#model) {
      const recorded = await this.#episodesOf(pending);
      pending.forEach((episode, index) => {
        episodes[index] = recorded.get(messageKey(episode.columns.agent_id, episode.messageId));
      });
    }
    const toWrite: Array<{ index: number; episode: NewEpisode; facts: PreparedFact[] }> = [];
    for (const [index, episode] of pending.entries()) {
      if (episodes[index]) continue;
      const input = inputs[index]!;
      const summary = await this.#summarize(input);
      const raw = summary ? renderSummary(summary) : transcript(input.messages);
      const { text, truncated } = truncateText(raw, this.#maxText);
      const tags = [...new Set([...(input.tags ?? []), ...(summary?.tags ?? [])])];
      // A user's facts follow the user into every thread: stored without the thread, one key is one fact.
      const scope = input.scope ?? {};
      const factScope: MemoryScope = scope.userId === undefined ? scope : { ...scope, threadId: undefined };
      const facts: PreparedFact[] = [];
      for (const fact of summary?.stableFacts ?? []) {
        facts.push(await this.#prepareFact({ scope: factScope, key: fact.key, text: fact.text, signal: input.signal }));
      }
      toWrite.push({ index, episode: { ...episode, text, truncated, summary, tags, embedding: undefined }, facts });
    }
    const embeddings = await this.#embedManyForWrite(
      toWrite.map(({ episode }) => episode.text),
      toWrite[0]?.episode.scope ?? {},
      signal,
    );
    toWrite.forEach((item, index) => {
      item.episode.embedding = embeddings?.[index];
    });
    throwIfAborted(signal, 'record an episode');
    for (const { index } of toWrite) throwIfAborted(inputs[index]!.signal, 'record an episode');
    const write = async (db: QueryExecutorProvider) => {
      const inserted = new Map<string, EpisodeRow>();
      for (let from = 0; from < toWrite.length; from += INSERT_ROWS) {
        const rows = await this.#insertEpisodes(
          db,
          toWrite.slice(from, from + INSERT_ROWS).map(({ episode }) => episode),
        );
        for (const row of rows) inserted.set(row.id, row);
      }
      const writtenFacts: WrittenFact[] = [];
      for (const { episode, facts } of toWrite) {
        if (!inserted.has(episode.id)) continue;
        for (const fact of facts)
          writtenFacts.push(await this.#upsertFact(db, { ...fact, sourceEpisodeId: episode.id }));
      }
      return { inserted, facts: writtenFacts };
    };
    // One statement is atomic by itself: a single episode without facts (a turn) needs no transaction.
    const single = toWrite.length <= INSERT_ROWS && toWrite.every(({ facts }) => facts.length === 0);
    const written = single
      ? await write(this.database.kysely)
      : await this.database.kysely.transaction().execute(write);
    const skipped: PendingEpisode[] = [];
    for (const { index, episode } of toWrite) {
      const row = written.inserted.get(episode.id);
      if (!row) {
        skipped.push(episode);
        continue;
      }
      const stored = toEpisode(row);
      episodes[index] = stored;
      this.events.emit('memory.episode-written', {
        id: stored.id,
        scope: stored.scope,
        unstructured: stored.unstructured,
        truncated: episode.truncated,
      });
    }
    for (const fact of written.facts) this.#factWritten(fact);
    await this.statistics.wrote(written.inserted.size + written.facts.length);
    // Another writer recorded these messages first (a redelivery racing its first attempt, an
    // import run again, or an earlier input of this batch with the same message): theirs stand.
    if (skipped.length > 0) {
      const recorded = await this.#episodesOf(skipped);
      for (const { index, episode } of toWrite) {
        if (!episodes[index]) episodes[index] = recorded.get(messageKey(episode.columns.agent_id, episode.messageId));
      }
    }
    // Every input has its episode now: a skipped one (two inputs of one message included) was read back.
    return episodes as Episode[];
  }

  /** Checks an episode to record; what is known of it before it is summarized. */
  #validateEpisode(input: RecordEpisodeInput): PendingEpisode {
    if (!Array.isArray(input?.messages) || input.messages.length === 0) {
      throw invalidArgument('recordEpisode needs { scope, messages } with at least one message');
    }
    const scope = input.scope ?? {};
    const messageId = input.messageId;
    if (
      messageId !== undefined &&
      (typeof messageId !== 'string' || messageId.length === 0 || messageId.length > 256)
    ) {
      throw invalidArgument(
        `recordEpisode needs a messageId of 1 to 256 characters or none, got ${JSON.stringify(messageId)}`,
      );
    }
    return {
      id: this.#generateId(),
      scope,
      columns: scopeColumns(scope),
      messageId,
      occurredAt: this.#eventTime(input.occurredAt),
    };
  }

  /** The summary of an exchange by the model, or undefined (no model, or it failed: the transcript is stored). */
  async #summarize(input: RecordEpisodeInput): Promise<EpisodeSummary | undefined> {
    if (!this.#model) return undefined;
    const scope = input.scope ?? {};
    try {
      const result = await summarizeEpisode({
        model: this.#model,
        tier: this.#summaryTier,
        messages: input.messages,
        scope,
        signal: input.signal,
        onInvalid: (attempt, error) => this.events.emit('memory.summary-invalid', { attempt, error, scope }),
      });
      return result.summary;
    } catch (error) {
      if (AgentrixError.isInstance(error) && error.code === 'ABORTED') throw error;
      this.events.emit('memory.summary-invalid', { attempt: 0, error: serializeError(error).message, scope });
      return undefined;
    }
  }

  /** The stored episodes of these (agent, message) pairs, by {@link messageKey}. */
  async #episodesOf(episodes: readonly PendingEpisode[]): Promise<Map<string, Episode>> {
    const found = new Map<string, Episode>();
    const pairs = episodes.filter((episode) => episode.messageId !== undefined);
    for (let from = 0; from < pairs.length; from += INSERT_ROWS) {
      const keys = pairs
        .slice(from, from + INSERT_ROWS)
        .map(({ columns, messageId }) => sql`(${columns.agent_id}, ${messageId})`);
      const result = await sql<EpisodeRow>`select ${sql.join(EPISODE_COLUMNS.map((name) => sql.ref(name)))}
        from memory_episodes where (agent_id, message_id) in (${sql.join(keys)})`.execute(this.database.kysely);
      for (const row of result.rows) found.set(messageKey(row.agent_id, row.message_id ?? undefined), toEpisode(row));
    }
    return found;
  }

  /** The most recent episodes `scope` may see, newest first. */
  async recentEpisodes(scope: MemoryQueryScope, limit = 5): Promise<Episode[]> {
    const result = await sql<EpisodeRow>`select ${sql.join(EPISODE_COLUMNS.map((name) => sql.ref(`t.${name}`)))}
      from memory_episodes t where ${scopeCondition(scope)} order by t.occurred_at desc, t.seq desc limit ${limit}`.execute(
      this.database.kysely,
    );
    return result.rows.map(toEpisode);
  }

  /** The episodes most relevant to `query` (BM25 full text, plus vectors when configured), best first. */
  async searchEpisodes(scope: MemoryQueryScope, query: string, limit = 5, signal?: AbortSignal): Promise<Episode[]> {
    this.#checkOpen('search');
    return (await this.#rankEpisodes(scope, query, limit, signal)).rows.map(toEpisode);
  }

  // ---- retrieval for a prompt -----------------------------------------------------------------

  /**
   * Facts and episodes for a prompt, filling `maxTokens` best first instead of fixed counts: facts
   * and episodes ranked by BM25 (fused with vectors when configured), each matching episode with
   * the short turns around it (the follow-up that answers it, the question it answers), and the
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
    const factLimit = options.facts ?? candidates;
    const { facts, vector } =
      factLimit > 0 && budget > 0
        ? await this.searchFacts(scope, query, factLimit, signal)
        : { facts: [], vector: false };
    const relevantLimit = Math.min(options.relevantEpisodes ?? candidates, candidates);
    const ranked =
      relevantLimit > 0 && budget > 0
        ? await this.#rankEpisodes(scope, query, relevantLimit, signal)
        : { rows: [], vector: false };
    const recentLimit = options.recentEpisodes ?? 2;
    const recent =
      recentLimit > 0 && budget > 0
        ? (
            await sql<OrderedEpisodeRow>`select ${sql.join(ORDERED_EPISODE_COLUMNS.map((name) => sql.ref(`t.${name}`)))}
              from memory_episodes t where ${scopeCondition(scope)} order by t.occurred_at desc, t.seq desc
              limit ${recentLimit}`.execute(this.database.kysely)
          ).rows.map(toPromptEpisode)
        : [];
    const neighbours = await this.#neighbours(ranked.rows.map((row) => row.id));
    const hits: PromptHit<PromptEpisodeOf>[] = ranked.rows.map((row) => ({
      episode: toPromptEpisode(row),
      neighbours: (neighbours.get(row.id) ?? []).filter((neighbour) => countTokens(neighbour.text) <= NEIGHBOUR_TOKENS),
    }));
    const filled = fillPrompt({
      facts,
      hits,
      recent,
      maxTokens: budget,
      countTokens,
    });
    const episodes = filled.episodes.map((episode) => toEpisode(episode.row));
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
    limit: number,
    signal: AbortSignal | undefined,
  ): Promise<{ rows: OrderedEpisodeRow[]; vector: boolean }> {
    // Each list deep enough for fusion to matter: the best of a sub-query may be 10th of the question's.
    const depth = Math.max(limit, FUSION_DEPTH);
    const textRanked = await lexicalSearch<OrderedEpisodeRow>(this.database.kysely, {
      table: 'memory_episodes',
      columns: sql.join(ORDERED_EPISODE_COLUMNS.map((name) => sql.ref(`t.${name}`))),
      scope,
      query,
      limit: depth,
      tieBreak: sql`t.occurred_at`,
    });
    const vectorRanked = await this.#vector<OrderedEpisodeRow>(
      'memory_episodes',
      ORDERED_EPISODE_COLUMNS,
      scope,
      query,
      depth,
      signal,
    );
    // A second hop by rule: the names the best episodes introduce, for the half of a multi-hop
    // question that shares no word with it (bench/memory: multi-hop 15% -> see docs/memory.md).
    const bridge = bridgeQuery(query, textRanked, speakersOf(textRanked));
    const bridged = bridge
      ? await lexicalSearch<OrderedEpisodeRow>(this.database.kysely, {
          table: 'memory_episodes',
          columns: sql.join(ORDERED_EPISODE_COLUMNS.map((name) => sql.ref(`t.${name}`))),
          scope,
          query: bridge,
          limit: BRIDGE_RESULTS,
          tieBreak: sql`t.occurred_at`,
        })
      : [];
    // The parts of a multi-part question, searched one by one (by the model when one is set).
    const parts = await this.#subQueries(scope, query, signal);
    const partRanked: OrderedEpisodeRow[][] = [];
    for (const part of parts) {
      partRanked.push(
        await lexicalSearch<OrderedEpisodeRow>(this.database.kysely, {
          table: 'memory_episodes',
          columns: sql.join(ORDERED_EPISODE_COLUMNS.map((name) => sql.ref(`t.${name}`))),
          scope,
          query: part,
          limit: depth,
          tieBreak: sql`t.occurred_at`,
        }),
      );
    }
    const rows = reciprocalRankFusion([textRanked, vectorRanked ?? [], ...partRanked, bridged], (row) => row.id).slice(
      0,
      limit,
    );
    return { rows, vector: vectorRanked !== undefined };
  }

  /**
   * The sub-queries of a question: the rewrite model's when one is set (its failure is reported
   * and the rules take over), else {@link rewriteQuery}'s rules; [] for a question of one part.
   */
  async #subQueries(scope: MemoryQueryScope, query: string, signal: AbortSignal | undefined): Promise<string[]> {
    if (query.trim() === '') return [];
    if (this.#rewrite) {
      try {
        return await rewriteWithModel({ model: this.#rewrite, tier: this.#summaryTier, query, scope, signal });
      } catch (error) {
        if (signal?.aborted) throw error;
        this.events.emit('memory.rewrite-failed', { error: serializeError(error) });
      }
    }
    return rewriteQuery(query);
  }

  /** The turn before and the turn after each episode, in its own conversation (same scope columns). */
  async #neighbours(ids: readonly string[]): Promise<Map<string, PromptEpisodeOf[]>> {
    const found = new Map<string, PromptEpisodeOf[]>();
    if (ids.length === 0) return found;
    const columns = sql.join(ORDERED_EPISODE_COLUMNS.map((name) => sql.ref(`n.${name}`)));
    const same = sql`n.user_id = e.user_id and n.agent_id = e.agent_id and n.thread_id = e.thread_id
      and n.namespace = e.namespace`;
    const result = await sql<OrderedEpisodeRow & { of_id: string }>`select e.id as of_id, n.* from memory_episodes e
      cross join lateral (
        (select ${columns} from memory_episodes n where ${same} and (n.occurred_at, n.seq) < (e.occurred_at, e.seq)
          order by n.occurred_at desc, n.seq desc limit 1)
        union all
        (select ${columns} from memory_episodes n where ${same} and (n.occurred_at, n.seq) > (e.occurred_at, e.seq)
          order by n.occurred_at, n.seq limit 1)
      ) n
      where e.id in (${sql.join(ids.map((id) => sql`${id}`))})`.execute(this.database.kysely);
    for (const row of result.rows) {
      const list = found.get(row.of_id) ?? [];
      list.push(toPromptEpisode(row));
      found.set(row.of_id, list);
    }
    return found;
  }

  // ---- scopes ---------------------------------------------------------------------------------

  /** Deletes every fact and episode of a user, in every agent and namespace, in one transaction. */
  async forgetUser(userId: string): Promise<ForgetResult> {
    this.#checkOpen('forget a user');
    const column = scopeColumns({ userId }).user_id;
    const result = await this.database.kysely.transaction().execute(async (trx) => {
      const facts = await sql`delete from memory_facts where user_id = ${column}`.execute(trx);
      const episodes = await sql`delete from memory_episodes where user_id = ${column}`.execute(trx);
      return { facts: Number(facts.numAffectedRows ?? 0), episodes: Number(episodes.numAffectedRows ?? 0) };
    });
    this.events.emit('memory.forgotten', { userId, ...result });
    return result;
  }

  /**
   * Deletes what one conversation of an agent left: its episodes, the facts they taught (a fact
   * whose source is one of them, even one that follows its user into other threads), and the
   * facts kept for that thread only, in one transaction. Facts taught again in another thread
   * since (their source is that thread's episode now) stay; {@link forgetUser} removes a user.
   */
  async forgetThread(scope: { agentId: string; threadId: string }): Promise<ForgetResult> {
    this.#checkOpen('forget a thread');
    if (scope?.agentId === undefined || scope.threadId === undefined) {
      throw invalidArgument(
        `forgetThread needs { agentId, threadId }, got ${JSON.stringify(scope)}: forget every thread of a user with forgetUser`,
      );
    }
    const columns = scopeColumns(scope);
    return this.database.kysely.transaction().execute(async (trx) => {
      const facts = await sql`delete from memory_facts where agent_id = ${columns.agent_id} and (
          thread_id = ${columns.thread_id} or source_episode_id in (select id from memory_episodes
            where agent_id = ${columns.agent_id} and thread_id = ${columns.thread_id}))`.execute(trx);
      const episodes = await sql`delete from memory_episodes where agent_id = ${columns.agent_id}
        and thread_id = ${columns.thread_id}`.execute(trx);
      return { facts: Number(facts.numAffectedRows ?? 0), episodes: Number(episodes.numAffectedRows ?? 0) };
    });
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

  /** When an episode happened: the given time (a Date or epoch ms), else now. */
  #eventTime(value: Date | number | undefined): number {
    const now = this.#clock.now();
    if (value === undefined) return now;
    const at = value instanceof Date ? value.getTime() : value;
    if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0) {
      throw invalidArgument(
        `recordEpisode needs occurredAt as a Date or epoch milliseconds (an integer from 0), got ${String(value)}`,
      );
    }
    if (at > now + FUTURE_TOLERANCE_MS) {
      throw invalidArgument(
        `recordEpisode got occurredAt ${new Date(at).toISOString()}, later than now (${new Date(now).toISOString()}): pass when it was said, not a plan`,
      );
    }
    return at;
  }

  /**
   * Inserts episodes in one statement, in the order given (their `seq`); returns the rows
   * inserted, without those whose (agent, message) was recorded already. Runs in the caller's
   * transaction, if any.
   */
  async #insertEpisodes(db: QueryExecutorProvider, episodes: readonly NewEpisode[]): Promise<EpisodeRow[]> {
    if (episodes.length === 0) return [];
    const now = this.#clock.now();
    const embeddingInsert = this.#column ? sql`, ${sql.ref(this.#column)}` : sql``;
    const values = episodes.map((episode) => {
      const { columns, summary, embedding } = episode;
      const embeddingValue = this.#column
        ? sql`, ${embedding === undefined ? sql`null` : toVector(this.database, embedding)}`
        : sql``;
      return sql`(${episode.id}, ${columns.user_id}, ${columns.agent_id}, ${columns.thread_id}, ${columns.namespace},
        ${episode.messageId ?? null}, ${episode.text}, ${summary === undefined ? null : JSON.stringify(summary)}::jsonb,
        ${summary === undefined}, ${episode.truncated}, ${JSON.stringify(episode.tags)}::jsonb,
        ${episode.occurredAt}::bigint, ${now}::bigint${embeddingValue})`;
    });
    const result = await sql<EpisodeRow>`insert into memory_episodes
        (id, user_id, agent_id, thread_id, namespace, message_id, text, summary, unstructured, truncated, tags,
          occurred_at, created_at${embeddingInsert})
      values ${sql.join(values)}
      on conflict (agent_id, message_id) do nothing
      returning ${sql.join(EPISODE_COLUMNS.map((name) => sql.ref(name)))}`.execute(db);
    return result.rows;
  }

  /** Validates a fact and embeds it unless its stored embedding still fits: the work before its write. */
  async #prepareFact(input: RememberInput): Promise<PreparedFact> {
    if (typeof input?.key !== 'string' || input.key.length === 0 || input.key.length > 200) {
      throw invalidArgument('remember needs a key of 1 to 200 characters, like "user.favourite_color"');
    }
    if (typeof input.text !== 'string' || input.text.trim().length === 0) {
      throw invalidArgument(`remember needs a non-empty text for key "${input.key}"`);
    }
    throwIfAborted(input.signal, 'remember');
    const scope = input.scope ?? {};
    const columns = scopeColumns(scope);
    const { text, truncated } = truncateText(input.text, this.#maxText);
    const existing = await sql<{ text: string; embedded: boolean }>`select text, ${
      this.#column ? sql`${sql.ref(this.#column)} is not null` : sql`false`
    } as embedded from memory_facts where user_id = ${columns.user_id} and agent_id = ${columns.agent_id}
      and thread_id = ${columns.thread_id} and namespace = ${columns.namespace} and key = ${input.key}`.execute(
      this.database.kysely,
    );
    const before = existing.rows[0];
    const keepEmbedding = before !== undefined && before.text === text && before.embedded;
    const embedding = keepEmbedding
      ? undefined
      : await this.#embedForWrite(`${input.key}: ${text}`, scope, input.signal);
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
  async #upsertFact(db: QueryExecutorProvider, fact: PreparedFact): Promise<WrittenFact> {
    const { columns } = fact;
    const now = this.#clock.now();
    const embeddingValue: RawBuilder<unknown> =
      fact.embedding === undefined ? sql`null` : toVector(this.database, fact.embedding);
    const embeddingInsert = this.#column ? sql`, ${sql.ref(this.#column)}` : sql``;
    const embeddingValues = this.#column ? sql`, ${embeddingValue}` : sql``;
    const embeddingUpdate =
      this.#column && !fact.keepEmbedding ? sql`, ${sql.ref(this.#column)} = excluded.${sql.ref(this.#column)}` : sql``;
    const result = await sql<FactRow & { inserted: boolean }>`insert into memory_facts
        (id, user_id, agent_id, thread_id, namespace, key, text, truncated, tags, source_episode_id, created_at,
          updated_at${embeddingInsert})
      values (${this.#generateId()}, ${columns.user_id}, ${columns.agent_id}, ${columns.thread_id}, ${columns.namespace},
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

  #factWritten({ fact, updated, truncated }: WrittenFact): void {
    this.events.emit('memory.fact-written', {
      id: fact.id,
      key: fact.key,
      scope: fact.scope,
      updated,
      truncated,
    });
  }

  /** Embeddings of texts to write, in one embedder call; undefined without an embedder or when it failed. */
  async #embedManyForWrite(
    texts: readonly string[],
    scope: MemoryScope,
    signal: AbortSignal | undefined,
  ): Promise<number[][] | undefined> {
    if (!this.#embeddings || texts.length === 0) return undefined;
    try {
      const options = { scope: callScope(scope, EMBEDDING_TAG), ...(signal ? { signal } : {}) };
      return await this.#embeddings.embed(texts, options);
    } catch (error) {
      if (signal?.aborted) throw error;
      this.events.emit('memory.embedder-failed', {
        operation: 'write',
        texts: texts.length,
        error: serializeError(error),
      });
      return undefined;
    }
  }

  async #embedForWrite(
    text: string,
    scope: MemoryScope,
    signal: AbortSignal | undefined,
  ): Promise<number[] | undefined> {
    if (!this.#embeddings) return undefined;
    try {
      const options = { scope: callScope(scope, EMBEDDING_TAG), ...(signal ? { signal } : {}) };
      const [vector] = await this.#embeddings.embed([text], options);
      return vector;
    } catch (error) {
      if (signal?.aborted) throw error;
      this.events.emit('memory.embedder-failed', { operation: 'write', texts: 1, error: serializeError(error) });
      return undefined;
    }
  }

  /** Vector-ranked rows, or undefined when there is no embedder or it failed (full text carries on). */
  async #vector<Row>(
    table: string,
    columns: readonly string[],
    scope: MemoryQueryScope,
    query: string,
    limit: number,
    signal: AbortSignal | undefined,
  ): Promise<Row[] | undefined> {
    if (!this.#embeddings || !this.#column || query.trim() === '') return undefined;
    let embedding: number[];
    try {
      const options = { scope: callScope(scope, EMBEDDING_TAG), ...(signal ? { signal } : {}) };
      [embedding] = (await this.#embeddings.embed([query], options)) as [number[]];
    } catch (error) {
      if (signal?.aborted) throw error;
      this.events.emit('memory.embedder-failed', { operation: 'query', texts: 1, error: serializeError(error) });
      return undefined;
    }
    const where = scopeCondition(scope);
    const rows = await sql<{ rows: string }>`select count(*) as rows from (
        select 1 from ${sql.table(table)} t where ${where} limit ${EXACT_VECTOR_ROWS + 1}) scoped`.execute(
      this.database.kysely,
    );
    return vectorSearch<Row>(this.database, {
      table,
      column: this.#column,
      embedding,
      limit,
      where,
      columns,
      exact: Number(rows.rows[0]?.rows ?? 0) <= EXACT_VECTOR_ROWS,
    });
  }
}

/** An episode as the prompt filler sees it, carrying its row. */
interface PromptEpisodeOf {
  id: string;
  text: string;
  occurredAt: number;
  seq: number;
  row: OrderedEpisodeRow;
}

function toPromptEpisode(row: OrderedEpisodeRow): PromptEpisodeOf {
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
