import {
  AgentrixError,
  BACKGROUND_TIMER,
  type ChatMessage,
  type ChatModel,
  type Clock,
  type IdGenerator,
  randomId,
  serializeError,
  systemClock,
  type TimerHandle,
} from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';
import { type QueryExecutorProvider, sql } from 'kysely';
import './distill-events.js';
import { DISTILL_INSTRUCTIONS, type Distillation, parseDistillation, sessionTranscript } from './distill-schema.js';
import { closedError } from './errors.js';
import type { Memory } from './memory.js';
import { dayHeader } from './memory-prompt.js';
import { EPISODE_COLUMNS, type EpisodeRow, rowScope } from './records.js';
import { callScope, type MemoryScope, type ScopeColumns, scopeColumns } from './scope.js';
import { truncateText } from './text.js';

/** The gateway scope tag of distillation calls: a tag budget `{ scope: { tag: 'memory.distill' } }` caps them. */
export const DISTILL_TAG = 'memory.distill';

export interface DistillerOptions {
  /** The memory whose conversations are distilled; the distiller emits on `memory.events`. */
  memory: Memory;
  /**
   * The small model (pass the gateway: each call carries the conversation's user, agent and
   * thread and the tag `memory.distill`, so budgets and the ledger apply).
   */
  model: ChatModel;
  /** The tier asked. Default `'small'`. */
  tier?: string | undefined;
  /** A session ends after this long without a turn. Default 30 minutes. */
  idleGapMs?: number | undefined;
  /** A session is cut after this many turns, so one call never holds a whole day. Default 60. */
  maxSessionTurns?: number | undefined;
  /**
   * Every this many ms, distill the sessions that went idle in every conversation (a background
   * timer: it never keeps the process alive). Default: off; `withMemory` distills after turns,
   * `distill(scope)` on demand.
   */
  sweepIntervalMs?: number | undefined;
  clock?: Clock | undefined;
  generateId?: IdGenerator | undefined;
}

export interface DistillResult {
  /** Sessions distilled (stored and passed). */
  sessions: number;
  facts: number;
  summaries: number;
  /** Sessions left for a later pass: the budget or the model refused (see `memory.distill-skipped`). */
  deferred: number;
}

/** An episode of the conversation with its place on the timeline. */
type TurnRow = EpisodeRow & { seq: string | number };

interface Cursor {
  occurredAt: number;
  seq: number;
}

const START: Cursor = { occurredAt: -1, seq: -1 };
/** Pending turns read per query: a long import is distilled in pages of this many. */
const PAGE = 1000;
const TURN_COLUMNS = [...EPISODE_COLUMNS, 'seq'] as const;
const EMPTY: DistillResult = { sessions: 0, facts: 0, summaries: 0, deferred: 0 };
/** Characters of a distilled fact's key kept. */
const MAX_KEY_LENGTH = 200;

/**
 * Distils conversations into facts and session summaries with a small model: the semantic and
 * episodic tiers above the turns. A conversation is the episodes of one scope (user, agent,
 * thread, namespace) in the order said; a session ends at an idle gap (`idleGapMs`) or after
 * `maxSessionTurns`. Each session's facts, summary and the conversation's cursor are written in
 * one transaction, so a crash loses nothing and the session is distilled again; a fact updates
 * the one of its key. Each fact links to the turns it was drawn from (`Fact.evidenceEpisodeIds`).
 *
 * It runs beside turns, never inside them: `withMemory(..., { distiller })` queues a pass after
 * each turn's commit and does not wait for it; a failing or refused call is an event, and the
 * session is tried again on the next pass.
 */
export class Distiller implements AsyncDisposable {
  readonly memory: Memory;
  readonly #model: ChatModel;
  readonly #tier: string;
  readonly #idleGap: number;
  readonly #maxTurns: number;
  readonly #clock: Clock;
  readonly #generateId: IdGenerator;
  readonly #abort = new AbortController();
  /** One pass at a time: a small model called once at a time per process, and no two passes on one cursor. */
  #tail: Promise<unknown> = Promise.resolve();
  readonly #queued = new Set<string>();
  #timer: TimerHandle | undefined;
  /** The cursors name users: forgetting a user forgets them too. */
  readonly #forgotten = ({ userId }: { userId: string }) => {
    void sql`delete from memory_distill_cursors where user_id = ${userId}`
      .execute(this.memory.database.kysely)
      .catch(() => {});
  };
  #closing: Promise<void> | undefined;

  constructor(options: DistillerOptions) {
    if (!options?.memory || !options.model) throw invalidArgument('createDistiller needs { memory, model }');
    this.memory = options.memory;
    this.#model = options.model;
    this.#tier = options.tier ?? 'small';
    this.#idleGap = positive('idleGapMs', options.idleGapMs, 30 * 60_000);
    this.#maxTurns = positive('maxSessionTurns', options.maxSessionTurns, 60);
    if (this.#maxTurns > PAGE) throw invalidArgument(`createDistiller needs maxSessionTurns of at most ${PAGE}`);
    this.#clock = options.clock ?? systemClock;
    this.#generateId = options.generateId ?? randomId;
    const sweep = options.sweepIntervalMs;
    if (sweep !== undefined) {
      const interval = positive('sweepIntervalMs', sweep, 0);
      const tick = () => {
        this.#timer = this.#clock.setTimeout(
          () => {
            void this.sweep()
              .catch(() => {})
              .then(() => {
                if (!this.#closing) tick();
              });
          },
          interval,
          BACKGROUND_TIMER,
        );
      };
      tick();
    }
    this.memory.events.on('memory.forgotten', this.#forgotten);
  }

  /**
   * Distils every session of one conversation not distilled yet, the last one too even if it
   * has not gone idle (the explicit "this session is over"). Waits for the passes queued before it.
   */
  distill(scope: MemoryScope, options: { signal?: AbortSignal } = {}): Promise<DistillResult> {
    this.#checkOpen();
    const columns = scopeColumns(scope ?? {});
    return this.#enqueue(() => this.#pass(columns, true, options.signal));
  }

  /**
   * Queues a pass over one conversation that distils its sessions that are over (an idle gap
   * after them, or `maxSessionTurns`), and returns at once. Errors become events, never
   * rejections: this is what `withMemory` calls after a turn's commit.
   */
  afterTurn(scope: MemoryScope): void {
    if (this.#closing) return;
    const columns = scopeColumns(scope);
    const key = conversationKey(columns);
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    void this.#enqueue(() => {
      this.#queued.delete(key);
      return this.#pass(columns, false, undefined);
    }).catch(() => {});
  }

  /** Distils the idle sessions of every conversation that has turns not distilled yet. */
  async sweep(options: { signal?: AbortSignal } = {}): Promise<DistillResult> {
    this.#checkOpen();
    const pending = await sql<ScopeColumns>`select e.user_id, e.agent_id, e.thread_id, e.namespace
      from memory_episodes e left join memory_distill_cursors c using (user_id, agent_id, thread_id, namespace)
      where c.seq is null or (e.occurred_at, e.seq) > (c.occurred_at, c.seq)
      group by e.user_id, e.agent_id, e.thread_id, e.namespace`.execute(this.memory.database.kysely);
    let total = EMPTY;
    for (const columns of pending.rows) {
      const result = await this.#enqueue(() => this.#pass(columns, false, options.signal));
      total = add(total, result);
    }
    return total;
  }

  /** Resolves when the passes queued so far are done. */
  async idle(): Promise<void> {
    let tail: Promise<unknown>;
    do {
      tail = this.#tail;
      await tail.catch(() => {});
    } while (tail !== this.#tail);
  }

  /** Stops the sweep, aborts the call in flight and waits for the queued passes to end. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
      this.memory.events.off('memory.forgotten', this.#forgotten);
      this.#abort.abort();
      await this.idle();
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- internals ------------------------------------------------------------------------------

  #checkOpen(): void {
    if (this.#closing) throw closedError('distill');
  }

  #enqueue<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#tail.catch(() => {}).then(run);
    this.#tail = next;
    return next;
  }

  /** Distils the sessions of one conversation after its cursor, in order; stops at the first deferred one. */
  async #pass(columns: ScopeColumns, force: boolean, signal: AbortSignal | undefined): Promise<DistillResult> {
    const abort = signal ? AbortSignal.any([signal, this.#abort.signal]) : this.#abort.signal;
    let total = EMPTY;
    for (;;) {
      if (abort.aborted || this.memory.closed) return total;
      const cursor = await this.#cursor(columns);
      const turns = await this.#pending(columns, cursor);
      const sessions = splitSessions(turns, this.#idleGap, this.#maxTurns);
      const full = turns.length === PAGE;
      let progressed = false;
      for (const [index, session] of sessions.entries()) {
        const last = session.at(-1)!;
        const over =
          index < sessions.length - 1 ||
          session.length >= this.#maxTurns ||
          this.#clock.now() - Number(last.occurred_at) >= this.#idleGap ||
          (force && !full);
        if (!over) break;
        const result = await this.#distillSession(columns, cursor, session, abort);
        total = add(total, result);
        if (result.deferred > 0) return total;
        cursor.occurredAt = Number(last.occurred_at);
        cursor.seq = Number(last.seq);
        progressed = true;
      }
      // A full page may continue a session on the next one: read on from the new cursor.
      if (!full || !progressed) return total;
    }
  }

  async #cursor(columns: ScopeColumns): Promise<Cursor> {
    const result = await sql<{ occurred_at: string; seq: string }>`select occurred_at, seq from memory_distill_cursors
      where ${sameConversation(columns)}`.execute(this.memory.database.kysely);
    const row = result.rows[0];
    return row ? { occurredAt: Number(row.occurred_at), seq: Number(row.seq) } : { ...START };
  }

  async #pending(columns: ScopeColumns, cursor: Cursor): Promise<TurnRow[]> {
    const result = await sql<TurnRow>`select ${sql.join(TURN_COLUMNS.map((name) => sql.ref(name)))}
      from memory_episodes where ${sameConversation(columns)}
      and (occurred_at, seq) > (${cursor.occurredAt}, ${cursor.seq})
      order by occurred_at, seq limit ${PAGE}`.execute(this.memory.database.kysely);
    return result.rows;
  }

  async #distillSession(
    columns: ScopeColumns,
    cursor: Cursor,
    session: TurnRow[],
    signal: AbortSignal,
  ): Promise<DistillResult> {
    const started = performance.now();
    const scope = rowScope(columns);
    const first = session[0]!;
    const transcript = sessionTranscript(
      dayHeader(Number(first.occurred_at)).slice(1, -1),
      session.map((turn) => turn.text),
    );
    const outcome = await this.#ask(scope, transcript, session.length, signal);
    if ('error' in outcome) {
      const retry = outcome.reason !== 'invalid';
      this.memory.events.emit('memory.distill-skipped', {
        scope,
        reason: outcome.reason,
        episodes: session.length,
        retry,
        error: serializeError(outcome.error),
      });
      if (retry) return { ...EMPTY, deferred: 1 };
    }
    const distillation: Distillation = 'distillation' in outcome ? outcome.distillation : { summary: null, facts: [] };
    const ids = (evidence: readonly number[]) =>
      [...new Set(evidence)].sort((a, b) => a - b).map((n) => session[n - 1]!.id);
    // A user's facts follow the user into every thread (as recordEpisode's): stored without the thread.
    const factColumns = columns.user_id === '' ? columns : { ...columns, thread_id: '' };
    const facts = distillation.facts.map((fact) => ({
      key: fact.key,
      text: fact.text,
      evidence: ids(fact.evidence),
      tags: ['distilled'],
    }));
    if (distillation.summary) {
      facts.push({
        // One summary per session, named by its first turn: distilling the session again rewrites it.
        key: `summary.${first.id}`,
        text: `${dayHeader(Number(first.occurred_at))} ${distillation.summary.text}`,
        evidence: ids(distillation.summary.evidence),
        tags: ['distilled', 'summary'],
      });
    }
    const last = session.at(-1)!;
    const stored = await this.memory.database.kysely.transaction().execute(async (trx) => {
      // Compare and set: another process that distilled this session first wins; ours writes nothing.
      if (
        !(await this.#moveCursor(trx, columns, cursor, { occurredAt: Number(last.occurred_at), seq: Number(last.seq) }))
      )
        return false;
      // In key order (bytes), as a turn writes its facts (`byFactKey`): writers lock rows in one order.
      const key = (fact: { key: string }) => Buffer.from(fact.key.slice(0, MAX_KEY_LENGTH));
      for (const fact of facts.sort((a, b) => Buffer.compare(key(a), key(b))))
        await this.#upsertFact(trx, factColumns, fact);
      return true;
    });
    if (!stored) return EMPTY;
    const summaries = distillation.summary ? 1 : 0;
    this.memory.events.emit('memory.distilled', {
      scope,
      episodes: session.length,
      facts: facts.length - summaries,
      summary: summaries === 1,
      durationMs: performance.now() - started,
    });
    return { sessions: 1, facts: facts.length - summaries, summaries, deferred: 0 };
  }

  /** The model's distillation, sent back once with the validation error when it fails its schema. */
  async #ask(
    scope: MemoryScope,
    transcript: string,
    turns: number,
    signal: AbortSignal,
  ): Promise<{ distillation: Distillation } | { reason: 'budget' | 'error' | 'invalid'; error: unknown }> {
    const messages: ChatMessage[] = [
      { role: 'system', content: DISTILL_INSTRUCTIONS },
      { role: 'user', content: transcript },
    ];
    let invalid = '';
    for (let attempt = 1; attempt <= 2; attempt++) {
      let content: string;
      try {
        const response = await this.#model.generate({
          messages,
          tier: this.#tier,
          responseFormat: { type: 'json_object' },
          temperature: 0,
          scope: callScope(scope, DISTILL_TAG),
          signal,
        });
        content = response.message.content;
      } catch (error) {
        if (signal.aborted) throw error;
        const budget = AgentrixError.isInstance(error) && error.code === 'BUDGET_EXCEEDED';
        return { reason: budget ? 'budget' : 'error', error };
      }
      const parsed = parseDistillation(content, turns);
      if ('distillation' in parsed) return parsed;
      invalid = parsed.error;
      messages.push(
        { role: 'assistant', content },
        {
          role: 'user',
          content: `That JSON does not match the schema: ${parsed.error}. Reply again with the corrected JSON object only.`,
        },
      );
    }
    return {
      reason: 'invalid',
      error: new AgentrixError('INVALID_ARGUMENT', `The distiller's answer failed its schema twice: ${invalid}`),
    };
  }

  async #moveCursor(trx: QueryExecutorProvider, columns: ScopeColumns, from: Cursor, to: Cursor): Promise<boolean> {
    const now = this.#clock.now();
    if (from.seq === START.seq) {
      const inserted = await sql`insert into memory_distill_cursors
          (user_id, agent_id, thread_id, namespace, occurred_at, seq, updated_at)
        values (${columns.user_id}, ${columns.agent_id}, ${columns.thread_id}, ${columns.namespace},
          ${to.occurredAt}, ${to.seq}, ${now})
        on conflict (user_id, agent_id, thread_id, namespace) do nothing`.execute(trx);
      return Number(inserted.numAffectedRows ?? 0) === 1;
    }
    const updated = await sql`update memory_distill_cursors set occurred_at = ${to.occurredAt}, seq = ${to.seq},
        updated_at = ${now}
      where ${sameConversation(columns)} and occurred_at = ${from.occurredAt} and seq = ${from.seq}`.execute(trx);
    return Number(updated.numAffectedRows ?? 0) === 1;
  }

  async #upsertFact(
    trx: QueryExecutorProvider,
    columns: ScopeColumns,
    fact: { key: string; text: string; evidence: string[]; tags: string[] },
  ): Promise<void> {
    const now = this.#clock.now();
    const { text, truncated } = truncateText(fact.text, 1000);
    await sql`insert into memory_facts
        (id, user_id, agent_id, thread_id, namespace, key, text, truncated, tags, source_episode_id, evidence,
          created_at, updated_at)
      values (${this.#generateId()}, ${columns.user_id}, ${columns.agent_id}, ${columns.thread_id}, ${columns.namespace},
        ${fact.key.slice(0, MAX_KEY_LENGTH)}, ${text}, ${truncated}, ${JSON.stringify(fact.tags)}::jsonb, ${fact.evidence.at(-1) ?? null},
        ${JSON.stringify(fact.evidence)}::jsonb, ${now}, ${now})
      on conflict (user_id, agent_id, namespace, thread_id, key) do update set
        text = excluded.text, truncated = excluded.truncated, tags = excluded.tags,
        source_episode_id = excluded.source_episode_id, evidence = excluded.evidence, updated_at = excluded.updated_at`.execute(
      trx,
    );
  }
}

/** Creates a {@link Distiller} (the memory's migrations, applied by `createMemory`, include its tables). */
export function createDistiller(options: DistillerOptions): Distiller {
  return new Distiller(options);
}

/** Cuts a conversation's turns (in the order said) into sessions at idle gaps and at `maxTurns`. */
export function splitSessions<T extends { occurred_at: string | number }>(
  turns: readonly T[],
  idleGapMs: number,
  maxTurns: number,
): T[][] {
  const sessions: T[][] = [];
  let current: T[] = [];
  for (const turn of turns) {
    const previous = current.at(-1);
    if (
      previous &&
      (Number(turn.occurred_at) - Number(previous.occurred_at) >= idleGapMs || current.length >= maxTurns)
    ) {
      sessions.push(current);
      current = [];
    }
    current.push(turn);
  }
  if (current.length > 0) sessions.push(current);
  return sessions;
}

function sameConversation(columns: ScopeColumns) {
  return sql`user_id = ${columns.user_id} and agent_id = ${columns.agent_id} and thread_id = ${columns.thread_id}
    and namespace = ${columns.namespace}`;
}

function conversationKey(columns: ScopeColumns): string {
  return [columns.user_id, columns.agent_id, columns.thread_id, columns.namespace].join('\u0000');
}

function add(a: DistillResult, b: DistillResult): DistillResult {
  return {
    sessions: a.sessions + b.sessions,
    facts: a.facts + b.facts,
    summaries: a.summaries + b.summaries,
    deferred: a.deferred + b.deferred,
  };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw invalidArgument(`createDistiller needs ${name} as a positive integer, got ${String(value)}`);
  }
  return value;
}
