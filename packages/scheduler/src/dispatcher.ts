import { AgentrixError, type Clock, systemClock } from '@agentrix/core';
import { invalidArgument, toNumber } from '@agentrix/core/implement';
import { type Database, jsonb } from '@agentrix/store';
import { type RawBuilder, type Selectable, sql } from 'kysely';
import {
  type AgentProfile,
  type AgentProfileInput,
  AgentProfileInputSchema,
  type DispatchJob,
  type DispatchJobInput,
  DispatchJobInputSchema,
  type DispatchJobStatus,
  type Distribution,
  type DistributionStatus,
  type RankWeights,
} from './dispatch-types.js';
import { errorText } from './errors.js';
import { AGENT_PROFILES_TABLE, DISPATCH_JOBS_TABLE, DISTRIBUTIONS_TABLE, schedulerMigrations } from './migrations.js';
import { rankAgents } from './ranking.js';
import { replacedColumns } from './replaced-columns.js';
import {
  type AgentProfilesTable,
  type DispatchJobsTable,
  type DistributionsTable,
  schedulerKysely,
} from './scheduler-tables.js';

/** Runs one agent on one job. Reject to fail; stop when `signal` fires (the job went to another agent). */
export type RunAgent = (agentId: string, job: DispatchJob, signal: AbortSignal) => Promise<unknown>;

/** Picks the winner among successful results (a critic agent, a rule). Returns the winning agent id. */
export type ResultScorer = (
  results: readonly { agentId: string; result: unknown; durationMs: number }[],
  job: DispatchJob,
) => Promise<string> | string;

export interface DispatcherOptions {
  database: Database;
  runAgent: RunAgent;
  clock?: Clock;
  /** How many ranked agents run each job. Default 3. */
  topN?: number;
  weights?: RankWeights;
  /** `first` (default): the first success wins, the others are aborted. `best`: wait for all, `scorer` picks. */
  mode?: 'first' | 'best';
  scorer?: ResultScorer;
  /** A run longer than this is TIMEOUT. Default 300 000 (5 minutes). */
  timeoutMs?: number;
  /** How far one result moves reputation (an exponential moving average). Default 0.1. */
  reputationStep?: number;
}

export interface DispatchOutcome {
  job: DispatchJob;
  distributions: Distribution[];
}

/**
 * Hands jobs to the agents that suit them best: match conditions against profiles, rank by
 * reputation, success rate and speed, run the top N concurrently, keep the first success (or
 * the best by a scorer), abort the others, and update every agent's stats. Jobs, profiles and
 * one distribution row per agent and job live in tables.
 */
export class Dispatcher {
  readonly #database: Database;
  readonly #runAgent: RunAgent;
  readonly #clock: Clock;
  readonly #topN: number;
  readonly #weights: RankWeights;
  readonly #mode: 'first' | 'best';
  readonly #scorer: ResultScorer | undefined;
  readonly #timeoutMs: number;
  readonly #step: number;
  readonly #running = new Map<string, AbortController>();
  #migrated: Promise<unknown> | undefined;

  constructor(options: DispatcherOptions) {
    if (!options?.database || typeof options.runAgent !== 'function') {
      throw invalidArgument('Dispatcher needs { database, runAgent(agentId, job, signal) }');
    }
    if (options.mode === 'best' && typeof options.scorer !== 'function') {
      throw invalidArgument("mode 'best' needs a scorer(results, job) that returns the winning agent id");
    }
    this.#database = options.database;
    this.#runAgent = options.runAgent;
    this.#clock = options.clock ?? systemClock;
    this.#topN = Math.max(1, Math.trunc(options.topN ?? 3));
    this.#weights = options.weights ?? {};
    this.#mode = options.mode ?? 'first';
    this.#scorer = options.scorer;
    this.#timeoutMs = options.timeoutMs ?? 300_000;
    this.#step = options.reputationStep ?? 0.1;
  }

  get #db() {
    return schedulerKysely(this.#database);
  }

  #ready(): Promise<unknown> {
    this.#migrated ??= this.#database.migrate(schedulerMigrations);
    return this.#migrated;
  }

  /** Creates or replaces an agent's profile (its stats are kept). */
  async upsertProfile(input: AgentProfileInput): Promise<AgentProfile> {
    await this.#ready();
    const parsed = AgentProfileInputSchema.safeParse(input);
    if (!parsed.success) throw invalidArgument(`Invalid agent profile: ${parsed.error.message}`);
    const profile = parsed.data;
    const row = {
      agent_id: profile.agentId,
      tags: jsonb(profile.tags),
      categories: jsonb(profile.categories),
      skill_level: Math.trunc(profile.skillLevel),
      reputation: profile.reputation,
      updated_at: this.#clock.now(),
    };
    await this.#db
      .insertInto(AGENT_PROFILES_TABLE)
      .values(row)
      .onConflict((conflict) =>
        conflict
          .column('agent_id')
          .doUpdateSet(replacedColumns(row, ['tags', 'categories', 'skill_level', 'reputation', 'updated_at'])),
      )
      .execute();
    return (await this.profile(profile.agentId))!;
  }

  async profile(agentId: string): Promise<AgentProfile | undefined> {
    await this.#ready();
    const row = await this.#db
      .selectFrom(AGENT_PROFILES_TABLE)
      .selectAll()
      .where('agent_id', '=', agentId)
      .executeTakeFirst();
    return row ? toProfile(row) : undefined;
  }

  async profiles(): Promise<AgentProfile[]> {
    await this.#ready();
    const rows = await this.#db.selectFrom(AGENT_PROFILES_TABLE).selectAll().orderBy('agent_id').execute();
    return rows.map(toProfile);
  }

  /** Stores a job as `open`. A job id already stored is a no-op (returns the stored job). */
  async submit(input: DispatchJobInput): Promise<DispatchJob> {
    await this.#ready();
    const parsed = DispatchJobInputSchema.safeParse(input);
    if (!parsed.success) throw invalidArgument(`Invalid dispatch job: ${parsed.error.message}`);
    const job = parsed.data;
    const now = this.#clock.now();
    await this.#db
      .insertInto(DISPATCH_JOBS_TABLE)
      .values({
        id: job.id,
        payload: jsonb(job.payload ?? null),
        conditions: jsonb(job.conditions),
        status: 'open',
        expires_at: job.expiresAt ?? null,
        created_at: now,
        updated_at: now,
      })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .execute();
    return (await this.job(job.id))!;
  }

  async job(id: string): Promise<DispatchJob | undefined> {
    await this.#ready();
    const row = await this.#db.selectFrom(DISPATCH_JOBS_TABLE).selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toJob(row) : undefined;
  }

  async distributions(jobId: string): Promise<Distribution[]> {
    await this.#ready();
    const rows = await this.#db
      .selectFrom(DISTRIBUTIONS_TABLE)
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('rank')
      .execute();
    return rows.map(toDistribution);
  }

  /** Submits jobs fetched from a source (a remote endpoint) and dispatches each new one. */
  async pull(source: JobSource, options: { signal?: AbortSignal } = {}): Promise<DispatchOutcome[]> {
    const inputs = await source.fetch(options);
    const outcomes: DispatchOutcome[] = [];
    for (const input of inputs) {
      const job = await this.submit(input);
      if (job.status === 'open') outcomes.push(await this.dispatch(job.id, options));
    }
    return outcomes;
  }

  /** Dispatches every `open` job in the table, oldest first, one after another. */
  async dispatchOpen(options: { signal?: AbortSignal; limit?: number } = {}): Promise<DispatchOutcome[]> {
    await this.#ready();
    const rows = await this.#db
      .selectFrom(DISPATCH_JOBS_TABLE)
      .select('id')
      .where('status', '=', 'open')
      .orderBy('created_at')
      .limit(options.limit ?? 100)
      .execute();
    const outcomes: DispatchOutcome[] = [];
    for (const row of rows) outcomes.push(await this.dispatch(row.id, options));
    return outcomes;
  }

  /**
   * Runs one `open` job: match, rank, take the top N, run them, keep the winner. A job no agent
   * matches stays `open`; a job past its `expiresAt`, or whose runs all time out, is `expired`; a
   * job every agent failed is `cancelled` with the errors. Only one caller gets to dispatch a job.
   */
  async dispatch(jobId: string, options: { signal?: AbortSignal } = {}): Promise<DispatchOutcome> {
    await this.#ready();
    const job = await this.job(jobId);
    if (!job) throw invalidArgument(`No dispatch job "${jobId}": submit it first`);
    if (job.status !== 'open') return { job, distributions: await this.distributions(jobId) };
    const now = this.#clock.now();
    if (job.expiresAt !== undefined && job.expiresAt <= now) {
      await this.#setJob(jobId, 'expired', {
        from: 'open',
        error: `expired at ${job.expiresAt} before it was dispatched`,
      });
      return { job: (await this.job(jobId))!, distributions: [] };
    }
    const ranked = rankAgents(await this.profiles(), job.conditions, { weights: this.#weights, limit: this.#topN });
    if (ranked.length === 0) return { job, distributions: [] };
    // open -> distributed, claimed by this caller only
    if (!(await this.#setJob(jobId, 'distributed', { from: 'open' }))) {
      return { job: (await this.job(jobId))!, distributions: await this.distributions(jobId) };
    }
    await this.#db
      .insertInto(DISTRIBUTIONS_TABLE)
      .values(
        ranked.map((entry, index) => ({
          job_id: jobId,
          agent_id: entry.profile.agentId,
          rank: index + 1,
          score: entry.score,
          status: 'assigned',
        })),
      )
      .execute();
    await this.#setJob(jobId, 'in-progress', { from: 'distributed' });
    const running = { ...job, status: 'in-progress' as const };
    const jobController = new AbortController();
    this.#running.set(jobId, jobController);
    const onOuterAbort = () => jobController.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      await this.#runAll(
        running,
        ranked.map((entry) => entry.profile.agentId),
        jobController,
      );
    } finally {
      options.signal?.removeEventListener('abort', onOuterAbort);
      this.#running.delete(jobId);
    }
    return { job: (await this.job(jobId))!, distributions: await this.distributions(jobId) };
  }

  /** Aborts a running job's agents; it ends `cancelled`. An `open` job is cancelled at once. */
  async cancel(jobId: string): Promise<void> {
    const controller = this.#running.get(jobId);
    if (controller) controller.abort(new AgentrixError('ABORTED', `Job ${jobId} was cancelled`));
    else await this.#setJob(jobId, 'cancelled', { from: 'open', error: 'cancelled' });
  }

  /** Runs the agents concurrently, then settles the job from what they did. */
  async #runAll(job: DispatchJob, agentIds: string[], jobController: AbortController): Promise<void> {
    const race: Race = { successes: [], failures: [], timeouts: 0, winner: undefined, controllers: new Map() };
    for (const agentId of agentIds) race.controllers.set(agentId, new AbortController());
    await Promise.all(agentIds.map((agentId) => this.#runOne(job, agentId, race, jobController.signal)));
    if (this.#mode === 'best' && race.successes.length > 0 && !jobController.signal.aborted) {
      const chosen = await this.#scorer!(race.successes, job);
      race.winner = race.successes.find((entry) => entry.agentId === chosen) ?? race.successes[0]!;
    }
    await this.#settleJob(job, race, agentIds.length, jobController.signal);
  }

  /** One agent's run: `working`, then `completed`, `failed`, `timeout` or `cancelled`, with its stats. */
  async #runOne(job: DispatchJob, agentId: string, race: Race, jobSignal: AbortSignal): Promise<void> {
    const controller = race.controllers.get(agentId)!;
    const signal = AbortSignal.any([controller.signal, jobSignal]);
    const started = this.#clock.now();
    await this.#setDistribution(job.id, agentId, 'working', { started_at: started });
    try {
      const result = await this.#raceDeadline(agentId, job, controller, signal);
      const finished = this.#clock.now();
      if (this.#mode === 'first' && race.winner) {
        await this.#setDistribution(job.id, agentId, 'cancelled', {
          finished_at: finished,
          error: 'another agent won',
        });
        return;
      }
      race.successes.push({ agentId, result, durationMs: finished - started });
      if (this.#mode === 'first') this.#win(job, agentId, result, race);
      await this.#setDistribution(job.id, agentId, 'completed', {
        finished_at: finished,
        result: jsonb(result ?? null),
      });
      await this.#recordStats(agentId, true, finished - started);
    } catch (error) {
      const finished = this.#clock.now();
      const cancelled = signal.aborted && !isTimeout(signal.reason);
      if (cancelled || (this.#mode === 'first' && race.winner)) {
        await this.#setDistribution(job.id, agentId, 'cancelled', {
          finished_at: finished,
          error: errorText(signal.reason ?? error),
        });
        return;
      }
      if (isTimeout(error)) race.timeouts++;
      race.failures.push(`${agentId}: ${errorText(error)}`);
      await this.#setDistribution(job.id, agentId, isTimeout(error) ? 'timeout' : 'failed', {
        finished_at: finished,
        error: errorText(error),
      });
      await this.#recordStats(agentId, false, finished - started);
    }
  }

  /** The agent's result, or its TIMEOUT after `timeoutMs`, or the abort reason: whichever comes first. */
  async #raceDeadline(
    agentId: string,
    job: DispatchJob,
    controller: AbortController,
    signal: AbortSignal,
  ): Promise<unknown> {
    let timer: unknown;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.#clock.setTimeout(() => {
        const error = new AgentrixError('TIMEOUT', `Agent "${agentId}" took longer than ${this.#timeoutMs} ms`, {
          agentId,
        });
        controller.abort(error);
        reject(error);
      }, this.#timeoutMs);
    });
    const aborted = new Promise<never>((_, reject) => {
      // Already aborted when another agent won while this one's row was being written: the
      // listener would never fire, and a run that ignores its signal would be waited for.
      if (signal.aborted) reject(signal.reason);
      else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    try {
      return await Promise.race([this.#runAgent(agentId, job, signal), timeout, aborted]);
    } finally {
      this.#clock.clearTimeout(timer);
      timeout.catch(() => {});
      aborted.catch(() => {});
    }
  }

  /** `first` mode: the first success wins and the other agents are aborted. */
  #win(job: DispatchJob, agentId: string, result: unknown, race: Race): void {
    race.winner = { agentId, result };
    for (const [other, controller] of race.controllers) {
      if (other !== agentId) controller.abort(new AgentrixError('ABORTED', `Agent "${agentId}" won job ${job.id}`));
    }
  }

  /** `completed` with the winner; else `cancelled` (aborted, or every agent failed) or `expired` (every agent timed out). */
  async #settleJob(job: DispatchJob, race: Race, agents: number, jobSignal: AbortSignal): Promise<void> {
    const from = 'in-progress';
    if (race.winner) {
      await this.#setJob(job.id, 'completed', {
        from,
        winner: race.winner.agentId,
        result: jsonb(race.winner.result ?? null),
      });
    } else if (jobSignal.aborted) {
      await this.#setJob(job.id, 'cancelled', { from, error: errorText(jobSignal.reason) });
    } else if (race.timeouts === agents) {
      await this.#setJob(job.id, 'expired', { from, error: `every agent timed out: ${race.failures.join('; ')}` });
    } else {
      await this.#setJob(job.id, 'cancelled', { from, error: `every agent failed: ${race.failures.join('; ')}` });
    }
  }

  async #recordStats(agentId: string, success: boolean, durationMs: number): Promise<void> {
    const step = this.#step;
    await this.#db
      .updateTable(AGENT_PROFILES_TABLE)
      .set(
        success
          ? {
              successes: sql`successes + 1`,
              total_ms: sql`total_ms + ${Math.max(0, Math.round(durationMs))}`,
              reputation: sql`reputation + ${step} * (1 - reputation)`,
              updated_at: this.#clock.now(),
            }
          : {
              failures: sql`failures + 1`,
              reputation: sql`reputation - ${step} * reputation`,
              updated_at: this.#clock.now(),
            },
      )
      .where('agent_id', '=', agentId)
      .execute();
  }

  async #setJob(
    jobId: string,
    status: DispatchJobStatus,
    fields: { from: DispatchJobStatus; winner?: string; result?: RawBuilder<unknown>; error?: string },
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable(DISPATCH_JOBS_TABLE)
      .set({
        status,
        updated_at: this.#clock.now(),
        ...(fields.winner !== undefined ? { winner: fields.winner } : {}),
        ...(fields.result !== undefined ? { result: fields.result } : {}),
        ...(fields.error !== undefined ? { error: fields.error } : {}),
      })
      .where('id', '=', jobId)
      .where('status', '=', fields.from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async #setDistribution(
    jobId: string,
    agentId: string,
    status: DistributionStatus,
    fields: { started_at?: number; finished_at?: number; result?: RawBuilder<unknown>; error?: string },
  ): Promise<void> {
    await this.#db
      .updateTable(DISTRIBUTIONS_TABLE)
      .set({ status, ...fields })
      .where('job_id', '=', jobId)
      .where('agent_id', '=', agentId)
      .execute();
  }
}

/** What the runs of one job share while it is dispatched. */
interface Race {
  successes: { agentId: string; result: unknown; durationMs: number }[];
  failures: string[];
  timeouts: number;
  winner: { agentId: string; result: unknown } | undefined;
  controllers: Map<string, AbortController>;
}

function isTimeout(error: unknown): boolean {
  return AgentrixError.isInstance(error) && error.code === 'TIMEOUT';
}

/** Where jobs come from besides `submit`: a remote endpoint, another system. */
export interface JobSource {
  fetch(options?: { signal?: AbortSignal }): Promise<DispatchJobInput[]>;
}

/** Runs agents through an `AgentManager` (or anything with `ask`): the reply's content is the result. */
export function agentManagerRunner(manager: {
  ask(
    agentId: string,
    content: string,
    options?: { signal?: AbortSignal; data?: unknown; timeoutMs?: number },
  ): Promise<{ content: string }>;
}): RunAgent {
  return async (agentId, job, signal) => {
    const content = typeof job.payload === 'string' ? job.payload : JSON.stringify(job.payload);
    const reply = await manager.ask(agentId, content, { signal, data: { jobId: job.id, payload: job.payload } });
    return reply.content;
  };
}

function toProfile(row: Selectable<AgentProfilesTable>): AgentProfile {
  const successes = toNumber(row.successes);
  const failures = toNumber(row.failures);
  const total = toNumber(row.total_ms);
  return {
    agentId: row.agent_id,
    tags: row.tags,
    categories: row.categories,
    skillLevel: toNumber(row.skill_level),
    reputation: toNumber(row.reputation),
    successes,
    failures,
    successRate: successes + failures === 0 ? 0.5 : successes / (successes + failures),
    averageMs: successes === 0 ? undefined : total / successes,
  };
}

function toJob(row: Selectable<DispatchJobsTable>): DispatchJob {
  return {
    id: row.id,
    payload: row.payload ?? null,
    conditions: row.conditions,
    status: row.status,
    winner: row.winner ?? undefined,
    result: row.result ?? undefined,
    error: row.error ?? undefined,
    expiresAt: row.expires_at === null || row.expires_at === undefined ? undefined : toNumber(row.expires_at),
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}

function toDistribution(row: Selectable<DistributionsTable>): Distribution {
  return {
    jobId: row.job_id,
    agentId: row.agent_id,
    rank: toNumber(row.rank),
    score: toNumber(row.score),
    status: row.status,
    result: row.result ?? undefined,
    error: row.error ?? undefined,
    startedAt: row.started_at === null || row.started_at === undefined ? undefined : toNumber(row.started_at),
    finishedAt: row.finished_at === null || row.finished_at === undefined ? undefined : toNumber(row.finished_at),
  };
}
