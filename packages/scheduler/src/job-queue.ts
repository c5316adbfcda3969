import {
  AgentrixError,
  AgentrixEvents,
  type Clock,
  type IdGenerator,
  type Logger,
  randomId,
  serializeError,
  silentLogger,
  systemClock,
  type TraceCarrier,
  TraceCarrierSchema,
} from '@agentrix/core';
import { invalidArgument, toNumber } from '@agentrix/core/implement';
import { type Database, jsonb } from '@agentrix/store';
import { type RawBuilder, type Selectable, sql } from 'kysely';
import { errorText } from './errors.js';
import type { JobStatus } from './job-status.js';
import type { JobTracing } from './job-tracing.js';
import { JOBS_TABLE, schedulerMigrations } from './migrations.js';
import { type JobsTable, schedulerKysely } from './scheduler-tables.js';

/** A job as stored. Times are epoch milliseconds. */
export interface StoredJob {
  id: string;
  queue: string;
  type: string;
  payload: unknown;
  status: JobStatus;
  priority: number;
  runAt: number;
  attempts: number;
  maxAttempts: number;
  timeoutMs: number;
  idempotencyKey: string | undefined;
  lockedBy: string | undefined;
  lockedAt: number | undefined;
  leaseUntil: number | undefined;
  lastError: string | undefined;
  /** The trace context of whoever added the job (W3C `traceparent`), when there was one. */
  trace: TraceCarrier | undefined;
  createdAt: number;
  updatedAt: number;
}

export interface AddJobInput {
  type: string;
  payload?: unknown;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** Earliest start (epoch ms). Default: now. */
  runAt?: number;
  /** Default: the queue's `maxAttempts` (5). */
  maxAttempts?: number;
  /** How long one attempt may run. Default: the queue's `timeoutMs` (5 minutes). */
  timeoutMs?: number;
  /** Adding a job with a key already stored on this queue is a no-op that returns the stored job's id. Keys are per queue. */
  idempotencyKey?: string;
  id?: string;
  /** The trace the job continues. Default: the queue's `tracing.carrier()` (the caller's active span). */
  trace?: TraceCarrier;
}

export interface JobQueueOptions {
  /** A database with {@link schedulerMigrations} applied (`JobQueue.open` applies them). */
  database: Database;
  /** Several queues may share one table. Default `'default'`. */
  queue?: string;
  clock?: Clock;
  generateId?: IdGenerator;
  /** Default 5. */
  maxAttempts?: number;
  /** Default 300 000 (5 minutes). */
  timeoutMs?: number;
  /** Added to a job's timeout to make its lease. Default 5 000. */
  leaseGraceMs?: number;
  /** Retry delays: `min(maxDelayMs, baseDelayMs * 2^(attempt-1))`. Defaults 1 000 and 3 600 000. */
  backoff?: { baseDelayMs?: number; maxDelayMs?: number };
  /** Leases taken over from a holder that never finished (info, warn when that was the last attempt). Also the default of a `JobWorker` on this queue. Default: silent. */
  logger?: Logger;
  /**
   * Where `job.completed`, `job.retried`, `job.dead-lettered` and `job.reclaimed` go, whoever runs
   * the jobs (a `JobWorker` or the host's own loop). Default: a new `AgentrixEvents`, as `queue.events`.
   */
  events?: AgentrixEvents;
  /**
   * Trace context for jobs: each job added stores the adder's trace (`carrier()`) and each attempt
   * a `JobWorker` runs continues it (`runJob`), in whatever process. Pass `agentrix.telemetry`
   * (or an `AgentrixTelemetry`). Default: none, jobs are not traced.
   */
  tracing?: JobTracing;
}

export interface AddResult {
  id: string;
  /** False when a job with the same idempotency key was already stored on this queue. */
  added: boolean;
}

const NOTIFY_CHANNEL = 'agentrix_jobs';

/**
 * A durable job queue in one table. Claims take a batch in one statement with
 * `FOR UPDATE SKIP LOCKED`, so any number of workers in any number of processes share it and a
 * job is held by one of them at a time. A job holds a lease (its timeout plus a grace); an
 * expired lease is reclaimed by the next claim. Failures retry with capped exponential backoff;
 * after `maxAttempts` the job is dead: kept, listable with {@link deadLetters} and re-drivable.
 */
export class JobQueue {
  readonly database: Database;
  readonly queue: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events: AgentrixEvents;
  readonly tracing: JobTracing | undefined;
  readonly #generateId: IdGenerator;
  readonly #maxAttempts: number;
  readonly #timeoutMs: number;
  readonly #leaseGraceMs: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;

  constructor(options: JobQueueOptions) {
    if (!options?.database) throw invalidArgument('JobQueue needs { database }: open one with openDatabase(url)');
    this.database = options.database;
    this.queue = options.queue ?? 'default';
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.events = options.events ?? new AgentrixEvents();
    this.tracing = options.tracing;
    this.#generateId = options.generateId ?? randomId;
    this.#maxAttempts = positive(options.maxAttempts ?? 5, 'maxAttempts');
    this.#timeoutMs = positive(options.timeoutMs ?? 300_000, 'timeoutMs');
    this.#leaseGraceMs = Math.round(nonNegative(options.leaseGraceMs ?? 5_000, 'leaseGraceMs'));
    this.#baseDelayMs = nonNegative(options.backoff?.baseDelayMs ?? 1_000, 'backoff.baseDelayMs');
    this.#maxDelayMs = nonNegative(options.backoff?.maxDelayMs ?? 3_600_000, 'backoff.maxDelayMs');
  }

  /** Added to a job's timeout to make its lease (a worker may hold a claimed job this long before starting it). */
  get leaseGraceMs(): number {
    return this.#leaseGraceMs;
  }

  /** Applies {@link schedulerMigrations} and returns a queue. */
  static async open(options: JobQueueOptions): Promise<JobQueue> {
    await options.database.migrate(schedulerMigrations);
    return new JobQueue(options);
  }

  get #db() {
    return schedulerKysely(this.database);
  }

  /** Adds one job. With an idempotency key already stored on this queue, nothing is added. */
  async add(input: AddJobInput): Promise<AddResult> {
    const [result] = await this.addMany([input]);
    return result!;
  }

  /** Adds jobs in one statement (plus one lookup for duplicate idempotency keys). */
  async addMany(inputs: readonly AddJobInput[]): Promise<AddResult[]> {
    if (inputs.length === 0) return [];
    const now = this.clock.now();
    // One carrier for the call: every job of it is added from the same active span.
    const carrier = this.tracing?.carrier();
    const rows = inputs.map((input) => {
      if (typeof input?.type !== 'string' || input.type.length === 0 || input.type.length > 128) {
        throw invalidArgument(
          `A job needs a type of 1-128 characters, like { type: 'send-email' }; got ${JSON.stringify(input?.type)}`,
        );
      }
      return {
        id: input.id ?? this.#generateId(),
        queue: this.queue,
        type: input.type,
        payload: jsonb<unknown>(input.payload ?? null),
        status: 'pending' as const,
        priority: Math.trunc(input.priority ?? 0),
        run_at: input.runAt ?? now,
        max_attempts: positive(input.maxAttempts ?? this.#maxAttempts, 'maxAttempts'),
        timeout_ms: positive(input.timeoutMs ?? this.#timeoutMs, 'timeoutMs'),
        idempotency_key: input.idempotencyKey ?? null,
        created_at: now,
        updated_at: now,
        // Only when there is one: an untraced add is the statement it was before the column.
        ...traceOf(input.trace ?? carrier),
      };
    });
    const inserted = new Set<string>();
    for (let start = 0; start < rows.length; start += 2_000) {
      const chunk = rows.slice(start, start + 2_000);
      const result = await this.#db
        .insertInto(JOBS_TABLE)
        .values(chunk)
        .onConflict((conflict) => conflict.doNothing())
        .returning('id')
        .execute();
      for (const row of result) inserted.add(row.id);
    }
    const missingKeys = rows.filter((row) => !inserted.has(row.id) && row.idempotency_key !== null);
    const existing = new Map<string, string>();
    if (missingKeys.length > 0) {
      const found = await this.#db
        .selectFrom(JOBS_TABLE)
        .select(['id', 'idempotency_key'])
        .where('queue', '=', this.queue)
        .where(
          'idempotency_key',
          'in',
          missingKeys.map((row) => row.idempotency_key),
        )
        .execute();
      for (const row of found) if (row.idempotency_key !== null) existing.set(row.idempotency_key, row.id);
    }
    if (inserted.size > 0) await this.#notify();
    return rows.map((row) =>
      inserted.has(row.id)
        ? { id: row.id, added: true }
        : { id: (row.idempotency_key !== null && existing.get(row.idempotency_key)) || row.id, added: false },
    );
  }

  /**
   * Claims up to `limit` jobs for `workerId`: pending jobs that are due, and running jobs whose
   * lease expired, highest priority first. One statement. A reclaimed job already at its
   * `maxAttempts` goes to dead letter instead of being returned.
   */
  async claim(workerId: string, limit = 1): Promise<StoredJob[]> {
    const now = this.clock.now();
    const grace = this.#leaseGraceMs;
    const size = Math.max(1, Math.trunc(limit));
    // Two index-friendly candidate sets (due pending jobs in priority order, expired leases),
    // each locked with SKIP LOCKED, then one UPDATE of at most `size` of them.
    const result = await sql<Selectable<JobsTable> & { reclaimed_from: string | null }>`
      with due as (
        select id from ${sql.table(JOBS_TABLE)}
        where queue = ${this.queue} and status = 'pending' and run_at <= ${now}::bigint
        order by priority desc, run_at, id
        limit ${size}
        for update skip locked
      ), expired as (
        select id, locked_by from ${sql.table(JOBS_TABLE)}
        where queue = ${this.queue} and status = 'running' and lease_until < ${now}::bigint
        order by lease_until
        limit ${size}
        for update skip locked
      )
      update ${sql.table(JOBS_TABLE)} set
        status = 'running', locked_by = ${workerId}, locked_at = ${now}::bigint,
        lease_until = ${now}::bigint + timeout_ms + ${grace}::bigint, attempts = attempts + 1, updated_at = ${now}::bigint
      where id in (select id from (select id from expired union all select id from due) as candidates limit ${size})
      returning *, (select expired.locked_by from expired where expired.id = ${sql.table(JOBS_TABLE)}.id) as reclaimed_from`.execute(
      this.#db,
    );
    for (const row of result.rows) {
      const attempt = toNumber(row.attempts);
      if (row.reclaimed_from === null || row.reclaimed_from === undefined || attempt > toNumber(row.max_attempts))
        continue;
      const fields = {
        queue: this.queue,
        jobId: row.id,
        type: row.type,
        attempt,
        previousHolder: row.reclaimed_from,
        workerId,
      };
      this.logger.info(fields, 'job lease expired: its holder did not finish; taken over');
      if (this.events.has('job.reclaimed')) this.events.emit('job.reclaimed', fields);
    }
    const jobs = result.rows
      .map(toJob)
      .sort((a, b) => b.priority - a.priority || a.runAt - b.runAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const exhausted = jobs.filter((job) => job.attempts > job.maxAttempts);
    for (const job of exhausted) {
      const reason = `lease expired on every attempt (${job.maxAttempts}); last holder did not finish`;
      if (await this.dead(job, new AgentrixError('TIMEOUT', reason))) {
        this.logger.warn(
          { queue: this.queue, jobId: job.id, type: job.type, attempt: job.maxAttempts, code: 'TIMEOUT' },
          `job dead-lettered: ${reason}`,
        );
      }
    }
    return exhausted.length === 0 ? jobs : jobs.filter((job) => job.attempts <= job.maxAttempts);
  }

  /** Marks jobs done. Only jobs still held by their claimer are changed; returns how many. */
  async complete(jobs: StoredJob | readonly StoredJob[]): Promise<number> {
    const list = Array.isArray(jobs) ? jobs : [jobs as StoredJob];
    if (list.length === 0) return 0;
    const now = this.clock.now();
    const byWorker = new Map<string, StoredJob[]>();
    for (const job of list) {
      const held = byWorker.get(job.lockedBy ?? '') ?? [];
      held.push(job);
      byWorker.set(job.lockedBy ?? '', held);
    }
    let count = 0;
    for (const [worker, held] of byWorker) {
      // Returns the ids that changed: a job whose lease expired meanwhile belongs to another worker.
      const rows = await this.#db
        .updateTable(JOBS_TABLE)
        .set({ status: 'done', locked_by: null, lease_until: null, updated_at: now })
        .where(
          'id',
          'in',
          held.map((job) => job.id),
        )
        .where('status', '=', 'running')
        .where('locked_by', '=', worker)
        .returning('id')
        .execute();
      count += rows.length;
      if (this.events.has('job.completed')) {
        const done = new Set(rows.map((row) => row.id));
        for (const job of held) {
          if (!done.has(job.id)) continue;
          this.events.emit('job.completed', {
            queue: this.queue,
            jobId: job.id,
            type: job.type,
            attempt: job.attempts,
          });
        }
      }
    }
    return count;
  }

  /**
   * Records a failed attempt: back to pending after a backoff delay, or dead when it was the last
   * attempt (or `dead: true`). Returns the new status, or `undefined` when the job was no longer held.
   */
  async fail(job: StoredJob, error: unknown, options: { dead?: boolean } = {}): Promise<JobStatus | undefined> {
    if (options.dead || job.attempts >= job.maxAttempts) {
      return (await this.dead(job, error)) ? 'dead' : undefined;
    }
    const now = this.clock.now();
    const delayMs = this.backoffDelay(job.attempts);
    const result = await this.#db
      .updateTable(JOBS_TABLE)
      .set({
        status: 'pending',
        run_at: now + delayMs,
        locked_by: null,
        lease_until: null,
        last_error: errorText(error),
        updated_at: now,
      })
      .where('id', '=', job.id)
      .where('status', '=', 'running')
      .where('locked_by', '=', job.lockedBy ?? '')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return undefined;
    if (this.events.has('job.retried')) {
      this.events.emit('job.retried', {
        queue: this.queue,
        jobId: job.id,
        type: job.type,
        attempt: job.attempts,
        maxAttempts: job.maxAttempts,
        delayMs,
        error: serializeError(error),
      });
    }
    return 'pending';
  }

  /** Delay before the attempt after `attempt` (1-based). */
  backoffDelay(attempt: number): number {
    return Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** Math.max(0, attempt - 1));
  }

  /** Moves a held job to dead letter with `error`. */
  async dead(job: StoredJob, error: unknown): Promise<boolean> {
    const now = this.clock.now();
    const result = await this.#db
      .updateTable(JOBS_TABLE)
      .set({ status: 'dead', locked_by: null, lease_until: null, last_error: errorText(error), updated_at: now })
      .where('id', '=', job.id)
      .where('status', '=', 'running')
      .where('locked_by', '=', job.lockedBy ?? '')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    if (this.events.has('job.dead-lettered')) {
      this.events.emit('job.dead-lettered', {
        queue: this.queue,
        jobId: job.id,
        type: job.type,
        // A job reclaimed past its last attempt counts that claim too: report the attempts it had.
        attempts: Math.min(job.attempts, job.maxAttempts),
        error: serializeError(error),
      });
    }
    return true;
  }

  /** Gives held jobs back without counting the attempt (a worker shutting down). */
  async release(jobs: readonly StoredJob[]): Promise<number> {
    if (jobs.length === 0) return 0;
    const now = this.clock.now();
    let count = 0;
    for (const job of jobs) {
      const result = await this.#db
        .updateTable(JOBS_TABLE)
        .set({
          status: 'pending',
          attempts: sql`greatest(attempts - 1, 0)`,
          locked_by: null,
          lease_until: null,
          updated_at: now,
        })
        .where('id', '=', job.id)
        .where('status', '=', 'running')
        .where('locked_by', '=', job.lockedBy ?? '')
        .executeTakeFirst();
      count += Number(result.numUpdatedRows);
    }
    if (count > 0) await this.#notify();
    return count;
  }

  async get(id: string): Promise<StoredJob | undefined> {
    const row = await this.#db.selectFrom(JOBS_TABLE).selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toJob(row) : undefined;
  }

  /** Dead jobs of this queue, oldest first. */
  async deadLetters(options: { limit?: number; type?: string } = {}): Promise<StoredJob[]> {
    let query = this.#db
      .selectFrom(JOBS_TABLE)
      .selectAll()
      .where('queue', '=', this.queue)
      .where('status', '=', 'dead');
    if (options.type !== undefined) query = query.where('type', '=', options.type);
    const rows = await query
      .orderBy('updated_at')
      .orderBy('id')
      .limit(options.limit ?? 100)
      .execute();
    return rows.map(toJob);
  }

  /**
   * Sends dead jobs back to pending with their attempts reset (the last error is kept): the given
   * ids, or every dead job of this queue (of `type` when given). Returns how many.
   */
  async redrive(options: { ids?: readonly string[]; type?: string } = {}): Promise<number> {
    const now = this.clock.now();
    let query = this.#db
      .updateTable(JOBS_TABLE)
      .set({ status: 'pending', attempts: 0, run_at: now, updated_at: now })
      .where('queue', '=', this.queue)
      .where('status', '=', 'dead');
    if (options.ids !== undefined) {
      if (options.ids.length === 0) return 0;
      query = query.where('id', 'in', [...options.ids]);
    }
    if (options.type !== undefined) query = query.where('type', '=', options.type);
    const result = await query.executeTakeFirst();
    const count = Number(result.numUpdatedRows);
    if (count > 0) await this.#notify();
    return count;
  }

  /** Jobs of this queue, newest first: of one `status` when given; `limit` (default 50) from `offset` (0). */
  async list(options: { status?: JobStatus; limit?: number; offset?: number } = {}): Promise<StoredJob[]> {
    let query = this.#db.selectFrom(JOBS_TABLE).selectAll().where('queue', '=', this.queue);
    if (options.status !== undefined) query = query.where('status', '=', options.status);
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit ?? 50)
      .offset(options.offset ?? 0)
      .execute();
    return rows.map(toJob);
  }

  /** Every job of these types on this queue, oldest first (the order they were added in). */
  async listByType(types: readonly string[]): Promise<StoredJob[]> {
    if (types.length === 0) return [];
    const rows = await this.#db
      .selectFrom(JOBS_TABLE)
      .selectAll()
      .where('queue', '=', this.queue)
      .where('type', 'in', [...types])
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toJob);
  }

  /** Deletes a dead job (a dead letter nobody will redrive). False when no dead job of this queue has that id. */
  async discard(id: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom(JOBS_TABLE)
      .where('queue', '=', this.queue)
      .where('id', '=', id)
      .where('status', '=', 'dead')
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** How many jobs of this queue are in each status. */
  async counts(): Promise<Record<JobStatus, number>> {
    const rows = await this.#db
      .selectFrom(JOBS_TABLE)
      .select(['status', sql<string>`count(*)`.as('count')])
      .where('queue', '=', this.queue)
      .groupBy('status')
      .execute();
    const counts: Record<JobStatus, number> = { pending: 0, running: 0, done: 0, failed: 0, dead: 0 };
    for (const row of rows) counts[row.status] = Number(row.count);
    return counts;
  }

  /** Calls `listener` when jobs are added or re-driven (in this process, and on Postgres in others). */
  listen(listener: () => void): Promise<() => Promise<void>> {
    return this.database.listen(NOTIFY_CHANNEL, (payload) => {
      if (payload === this.queue || payload === '*') listener();
    });
  }

  async #notify(): Promise<void> {
    await this.database.notify(NOTIFY_CHANNEL, this.queue).catch(() => {});
  }
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw invalidArgument(`${name} must be an integer >= 1, got ${value}`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw invalidArgument(`${name} must be a number >= 0, got ${value}`);
  return value;
}

/** The carrier as stored: checked, since a malformed `traceparent` would break every attempt's span. */
function traceOf(carrier: TraceCarrier | undefined): { trace?: RawBuilder<TraceCarrier> } {
  if (carrier === undefined) return {};
  const parsed = TraceCarrierSchema.safeParse(carrier);
  if (!parsed.success) {
    throw invalidArgument(
      `A job's trace must be a W3C carrier like { traceparent: '00-<32 hex>-<16 hex>-01' }; got ${JSON.stringify(carrier)}`,
    );
  }
  return { trace: jsonb(parsed.data) };
}

function optional<T>(value: unknown, map: (value: unknown) => T): T | undefined {
  return value === null || value === undefined ? undefined : map(value);
}

function toJob(row: Selectable<JobsTable>): StoredJob {
  return {
    id: row.id,
    queue: row.queue,
    type: row.type,
    payload: row.payload ?? null,
    status: row.status,
    priority: toNumber(row.priority),
    runAt: toNumber(row.run_at),
    attempts: toNumber(row.attempts),
    maxAttempts: toNumber(row.max_attempts),
    timeoutMs: toNumber(row.timeout_ms),
    idempotencyKey: optional(row.idempotency_key, String),
    lockedBy: optional(row.locked_by, String),
    lockedAt: optional(row.locked_at, toNumber),
    leaseUntil: optional(row.lease_until, toNumber),
    lastError: optional(row.last_error, String),
    trace: row.trace ?? undefined,
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}
