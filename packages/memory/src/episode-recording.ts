/**
 * Episodic memory's writes: recording exchanges as episodes in `memory_episodes` (validated,
 * summarized, embedded, inserted with their stable facts), once per (agent, message).
 */
import { AgentrixError, serializeError, throwIfAborted } from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';
import { toVector } from '@agentrix/store';
import { type QueryExecutorProvider, sql } from 'kysely';
import { type EpisodeSummary, renderSummary } from './episode-summary.js';
import { summarizeEpisode, transcript } from './episode-writer.js';
import { byFactKey, factWritten, type PreparedFact, prepareFact, upsertFact, type WrittenFact } from './facts.js';
import type { MemoryContext } from './memory-context.js';
import { embedManyForWrite } from './memory-embeddings.js';
import type { RecordEpisodeInput } from './memory-options.js';
import { EPISODE_COLUMNS, type Episode, type EpisodeRow, toEpisode } from './records.js';
import { type MemoryScope, type ScopeColumns, scopeColumns } from './scope.js';
import { truncateText } from './text.js';

/**
 * Episodes one insert statement writes at most (14 parameters each, far below Postgres's 65,535):
 * bench/memory, ingestion, one statement of 500 turns against one statement per turn.
 */
const INSERT_ROWS = 500;
/** An event time this far past the clock is taken as the clock skew of another machine, not an error. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

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

/**
 * Records exchanges as episodes, in the order given (see `Memory.recordEpisodes`): the texts are
 * embedded in one call, and the episodes and their facts written in one transaction, up to
 * {@link INSERT_ROWS} episodes a statement. Returns the episodes in the order of `inputs` (the
 * stored one for a message recorded before).
 */
export async function recordEpisodes(
  context: MemoryContext,
  inputs: readonly RecordEpisodeInput[],
  signal: AbortSignal | undefined,
): Promise<Episode[]> {
  if (!Array.isArray(inputs)) throw invalidArgument('recordEpisodes needs an array of { scope, messages }');
  const pending = inputs.map((input) => validateEpisode(context, input));
  const episodes = new Array<Episode | undefined>(pending.length);
  // Only a summary model makes a recorded message worth looking up first: it is not asked again.
  // Without one, the insert skips a recorded message and the stored episode is read after.
  if (context.model) {
    const recorded = await episodesOf(context, pending);
    pending.forEach((episode, index) => {
      episodes[index] = recorded.get(messageKey(episode.columns.agent_id, episode.messageId));
    });
  }
  const toWrite: Array<{ index: number; episode: NewEpisode; facts: PreparedFact[] }> = [];
  for (const [index, episode] of pending.entries()) {
    if (episodes[index]) continue;
    const input = inputs[index]!;
    const summary = await summarize(context, input);
    const raw = summary ? renderSummary(summary) : transcript(input.messages);
    const { text, truncated } = truncateText(raw, context.maxText);
    const tags = [...new Set([...(input.tags ?? []), ...(summary?.tags ?? [])])];
    // A user's facts follow the user into every thread: stored without the thread, one key is one fact.
    const scope = input.scope ?? {};
    const factScope: MemoryScope = scope.userId === undefined ? scope : { ...scope, threadId: undefined };
    const facts: PreparedFact[] = [];
    for (const fact of summary?.stableFacts ?? []) {
      facts.push(
        await prepareFact(context, { scope: factScope, key: fact.key, text: fact.text, signal: input.signal }),
      );
    }
    toWrite.push({ index, episode: { ...episode, text, truncated, summary, tags, embedding: undefined }, facts });
  }
  const embeddings = await embedManyForWrite(
    context,
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
      const rows = await insertEpisodes(
        context,
        db,
        toWrite.slice(from, from + INSERT_ROWS).map(({ episode }) => episode),
      );
      for (const row of rows) inserted.set(row.id, row);
    }
    const writtenFacts: WrittenFact[] = [];
    const facts = toWrite.flatMap(({ episode, facts }) =>
      inserted.has(episode.id) ? facts.map((fact) => ({ ...fact, sourceEpisodeId: episode.id })) : [],
    );
    // In key order (a stable sort: a key taught twice is written in the order taught), so two
    // turns writing the same facts lock their rows in the same order instead of deadlocking.
    for (const fact of facts.sort(byFactKey)) writtenFacts.push(await upsertFact(context, db, fact));
    return { inserted, facts: writtenFacts };
  };
  // One statement is atomic by itself: a single episode without facts (a turn) needs no transaction.
  const single = toWrite.length <= INSERT_ROWS && toWrite.every(({ facts }) => facts.length === 0);
  const written = single
    ? await write(context.database.kysely)
    : await context.database.kysely.transaction().execute(write);
  const skipped: PendingEpisode[] = [];
  for (const { index, episode } of toWrite) {
    const row = written.inserted.get(episode.id);
    if (!row) {
      skipped.push(episode);
      continue;
    }
    const stored = toEpisode(row);
    episodes[index] = stored;
    context.events.emit('memory.episode-written', {
      id: stored.id,
      scope: stored.scope,
      unstructured: stored.unstructured,
      truncated: episode.truncated,
    });
  }
  for (const fact of written.facts) factWritten(context, fact);
  await context.statistics.wrote(written.inserted.size + written.facts.length);
  // Another writer recorded these messages first (a redelivery racing its first attempt, an
  // import run again, or an earlier input of this batch with the same message): theirs stand.
  if (skipped.length > 0) {
    const recorded = await episodesOf(context, skipped);
    for (const { index, episode } of toWrite) {
      if (!episodes[index]) episodes[index] = recorded.get(messageKey(episode.columns.agent_id, episode.messageId));
    }
  }
  // Every input has its episode now: a skipped one (two inputs of one message included) was read back.
  return episodes as Episode[];
}

/** Checks an episode to record; what is known of it before it is summarized. */
function validateEpisode(context: MemoryContext, input: RecordEpisodeInput): PendingEpisode {
  if (!Array.isArray(input?.messages) || input.messages.length === 0) {
    throw invalidArgument('recordEpisode needs { scope, messages } with at least one message');
  }
  const scope = input.scope ?? {};
  const messageId = input.messageId;
  if (messageId !== undefined && (typeof messageId !== 'string' || messageId.length === 0 || messageId.length > 256)) {
    throw invalidArgument(
      `recordEpisode needs a messageId of 1 to 256 characters or none, got ${JSON.stringify(messageId)}`,
    );
  }
  return {
    id: context.generateId(),
    scope,
    columns: scopeColumns(scope),
    messageId,
    occurredAt: eventTime(context, input.occurredAt),
  };
}

/** When an episode happened: the given time (a Date or epoch ms), else now. */
function eventTime(context: MemoryContext, value: Date | number | undefined): number {
  const now = context.clock.now();
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

/** The summary of an exchange by the model, or undefined (no model, or it failed: the transcript is stored). */
async function summarize(context: MemoryContext, input: RecordEpisodeInput): Promise<EpisodeSummary | undefined> {
  if (!context.model) return undefined;
  const scope = input.scope ?? {};
  try {
    const result = await summarizeEpisode({
      model: context.model,
      tier: context.summaryTier,
      messages: input.messages,
      scope,
      signal: input.signal,
      onInvalid: (attempt, error) => context.events.emit('memory.summary-invalid', { attempt, error, scope }),
    });
    return result.summary;
  } catch (error) {
    if (AgentrixError.isInstance(error) && error.code === 'ABORTED') throw error;
    context.events.emit('memory.summary-invalid', { attempt: 0, error: serializeError(error).message, scope });
    return undefined;
  }
}

/** The stored episodes of these (agent, message) pairs, by {@link messageKey}. */
async function episodesOf(context: MemoryContext, episodes: readonly PendingEpisode[]): Promise<Map<string, Episode>> {
  const found = new Map<string, Episode>();
  const pairs = episodes.filter((episode) => episode.messageId !== undefined);
  for (let from = 0; from < pairs.length; from += INSERT_ROWS) {
    const keys = pairs
      .slice(from, from + INSERT_ROWS)
      .map(({ columns, messageId }) => sql`(${columns.agent_id}, ${messageId})`);
    const result = await sql<EpisodeRow>`select ${sql.join(EPISODE_COLUMNS.map((name) => sql.ref(name)))}
      from memory_episodes where (agent_id, message_id) in (${sql.join(keys)})`.execute(context.database.kysely);
    for (const row of result.rows) found.set(messageKey(row.agent_id, row.message_id ?? undefined), toEpisode(row));
  }
  return found;
}

/**
 * Inserts episodes in one statement, in the order given (their `seq`); returns the rows
 * inserted, without those whose (agent, message) was recorded already. Runs in the caller's
 * transaction, if any.
 */
async function insertEpisodes(
  context: MemoryContext,
  db: QueryExecutorProvider,
  episodes: readonly NewEpisode[],
): Promise<EpisodeRow[]> {
  if (episodes.length === 0) return [];
  const now = context.clock.now();
  const { column } = context;
  const embeddingInsert = column ? sql`, ${sql.ref(column)}` : sql``;
  const values = episodes.map((episode) => {
    const { columns, summary, embedding } = episode;
    const embeddingValue = column
      ? sql`, ${embedding === undefined ? sql`null` : toVector(context.database, embedding)}`
      : sql``;
    return sql`(${episode.id}, ${columns.user_id}, ${columns.agent_id}, ${columns.thread_id}, ${columns.namespace},
      ${episode.messageId ?? null}, ${episode.text}, ${summary === undefined ? null : JSON.stringify(summary)}::jsonb,
      ${summary === undefined}, ${episode.truncated}, ${JSON.stringify(episode.tags)}::jsonb,
      ${episode.occurredAt}::bigint, ${now}::bigint${embeddingValue})`;
  });
  const insert = sql<EpisodeRow>`insert into memory_episodes
      (id, user_id, agent_id, thread_id, namespace, message_id, text, summary, unstructured, truncated, tags,
        occurred_at, created_at${embeddingInsert})
    values ${sql.join(values)}
    on conflict (agent_id, message_id) do nothing
    returning ${sql.join(EPISODE_COLUMNS.map((name) => sql.ref(name)))}`;
  // A turn at a time (one row, no transaction: the same text every time) runs prepared: parsed and
  // planned once, not at every turn.
  const result =
    episodes.length === 1 && db === context.database.kysely
      ? await context.database.executePrepared(insert.compile(db))
      : await insert.execute(db);
  return result.rows;
}
