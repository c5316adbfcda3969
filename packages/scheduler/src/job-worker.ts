import {
  AgentrixError,
  type Clock,
  formatIssues,
  type Logger,
  randomId,
  type SerializedError,
  serializeError,
  sleep,
} from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';
import type { z } from 'zod';
import type { JobQueue, StoredJob } from './job-queue.js';
import type { JobTracing } from './job-tracing.js';

export interface JobHandlerContext {
  /** Fires when the job's timeout passes or the worker is closed with `abort: true`. */
  signal: AbortSignal;
  job: StoredJob;
}

/** How one job type is run. With a `schema`, a payload that fails it goes to dead letter at once. */
export interface JobDefinition<Payload = unknown> {
  schema?: z.ZodType<Payload>;
  handler(payload: Payload, context: JobHandlerContext): Promise<unknown> | unknown;
}

export interface JobWorkerOptions {
  queue: JobQueue;
  /** Handlers by job type. A claimed job of any other type goes to dead letter ("unknown job type"). */
  handlers: Record<string, JobDefinition<any>>;
  /** Shown in `locked_by`. Default: a random id. */
  workerId?: string;
  /** Jobs run at once, and the size of a claim when there is no backlog (see `maxClaimSize`). Default 10. */
  batchSize?: number;
  /**
   * Claim the next batch while the current one runs, when the current one was full (a backlog)
   * and the last batch took less than half the queue's `leaseGraceMs` (short jobs). A claimed job
   * that waited to start (claimed ahead, or behind other jobs of a large claim) starts only while
   * its lease still covers its whole timeout; one that waited longer than `leaseGraceMs` is given
   * back (its attempt not counted) rather than run on a lease that may lapse under it. Default true (bench/jobs: batches of 10 ran about
   * 2x faster with it on Postgres).
   */
  prefetch?: boolean;
  /**
   * Most jobs one claim takes while a backlog lasts. The claim size starts at `batchSize`,
   * doubles while claims come back full and batches end within half the lease grace, and drops
   * back to `batchSize` once a claim comes back short; at most `batchSize` of them run at once.
   * Default 500 (bench/jobs, Postgres: Postgres spent about 43 µs of CPU per job with claims of
   * 100 and about 26 µs with claims of 400-800, the statements' planning and round trips shared by more jobs).
   */
  maxClaimSize?: number;
  /**
   * Wait between empty polls. Default 1 000 ms. A notification (a job added or re-driven, in this
   * process or, on Postgres, in another) wakes the worker sooner; a retry's backoff ending does
   * not, so a retry starts up to this long after its `runAt`.
   */
  pollIntervalMs?: number;
  /** Defaults to the queue's clock. */
  clock?: Clock;
  /** Called with errors of the loop itself (a database outage); it keeps polling. */
  onError?: (error: unknown) => void;
  /**
   * Retries (info), dead letters (warn), redeliveries (debug), outages of the loop (warn) and its
   * recovery (info), with `queue`, `jobId`, `type`, `attempt`, `code`, `error`. Default: the queue's.
   */
  logger?: Logger;
}

export interface JobWorkerStats {
  completed: number;
  retried: number;
  dead: number;
}

/**
 * Runs jobs from a {@link JobQueue}: claims a batch, runs each handler with the job's timeout and
 * an `AbortSignal`, completes the successes in one statement, retries or dead-letters the rest.
 * While a full batch runs, the next one is claimed (`prefetch`), so the claim's round trip
 * overlaps the work instead of following it.
 * `start()` runs the loop; `close()` stops claiming and waits for the jobs in hand (idempotent).
 */
export class JobWorker implements AsyncDisposable {
  readonly workerId: string;
  readonly stats: JobWorkerStats = { completed: 0, retried: 0, dead: 0 };
  readonly #queue: JobQueue;
  readonly #handlers: Map<string, JobDefinition<any>>;
  readonly #batchSize: number;
  readonly #prefetch: boolean;
  readonly #maxClaimSize: number;
  /** Jobs the next claim takes (see `maxClaimSize`). */
  #claimSize: number;
  readonly #pollIntervalMs: number;
  readonly #clock: Clock;
  readonly #onError: (error: unknown) => void;
  readonly #logger: Logger;
  readonly #tracing: JobTracing | undefined;
  readonly #stop = new AbortController();
  readonly #inFlight = new Map<string, AbortController>();
  #wake: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #unlisten: (() => Promise<void>) | undefined;

  constructor(options: JobWorkerOptions) {
    if (!options?.queue) throw invalidArgument('JobWorker needs { queue, handlers }');
    if (!options.handlers || typeof options.handlers !== 'object') {
      throw invalidArgument("JobWorker needs handlers by job type, like { handlers: { 'send-email': { handler } } }");
    }
    this.#queue = options.queue;
    this.#handlers = new Map(Object.entries(options.handlers));
    for (const [type, definition] of this.#handlers) {
      if (typeof definition?.handler !== 'function') {
        throw invalidArgument(`The handler for job type "${type}" must be { handler(payload, context) }`);
      }
    }
    this.workerId = options.workerId ?? `worker-${randomId()}`;
    this.#batchSize = Math.max(1, Math.trunc(options.batchSize ?? 10));
    this.#prefetch = options.prefetch ?? true;
    this.#maxClaimSize = Math.max(this.#batchSize, Math.trunc(options.maxClaimSize ?? 500));
    this.#claimSize = this.#batchSize;
    this.#pollIntervalMs = Math.max(0, options.pollIntervalMs ?? 1_000);
    this.#clock = options.clock ?? options.queue.clock;
    this.#onError = options.onError ?? (() => {});
    this.#logger = options.logger ?? options.queue.logger;
    this.#tracing = options.queue.tracing;
  }

  get closed(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Starts the claim loop (once). */
  async start(): Promise<void> {
    if (this.#loop || this.closed) return;
    this.#unlisten = await this.#queue.listen(() => this.#wake?.abort());
    this.#loop = this.#run();
  }

  /** Claims one batch and runs it. Returns how many jobs it claimed (for tests and manual driving). */
  async runOnce(): Promise<number> {
    const jobs = await this.#queue.claim(this.workerId, this.#batchSize);
    await this.#runBatch(jobs);
    return jobs.length;
  }

  /** Runs claimed jobs, then completes the successes in one statement and retries or dead-letters the rest. */
  async #runBatch(jobs: readonly StoredJob[], prefetched = false): Promise<void> {
    if (jobs.length === 0) return;
    for (const job of jobs) {
      if (job.attempts > 1) this.#logger.debug(this.#fields(job), 'job redelivered');
    }
    // `batchSize` lanes. A job that waited (claimed ahead, or for a lane) and whose lease no
    // longer covers its timeout is given back unrun. Jobs of the first wave of a fresh claim
    // start at once, as they always did (with `leaseGraceMs: 0` no wait at all would pass).
    const outcomes: Array<{ error: unknown; dead: boolean } | undefined | 'late'> = new Array(jobs.length);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < jobs.length) {
        const index = next++;
        const job = jobs[index]!;
        const waited = prefetched || index >= this.#batchSize;
        outcomes[index] = waited && !this.#leaseCovers(job) ? 'late' : await this.#execute(job);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#batchSize, jobs.length) }, lane));
    const late = jobs.filter((_, index) => outcomes[index] === 'late');
    if (late.length > 0) await this.#giveBack(late);
    const done = jobs.filter((_, index) => outcomes[index] === undefined);
    if (done.length > 0) this.stats.completed += await this.#queue.complete(done);
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome === undefined || outcome === 'late') continue;
      const job = jobs[index]!;
      const status = await this.#queue.fail(job, outcome.error, { dead: outcome.dead });
      const error = serializeError(outcome.error);
      if (status === 'dead') {
        this.stats.dead++;
        this.#logger.warn({ ...this.#fields(job), code: error.code, error }, 'job dead-lettered');
      } else if (status === 'pending') {
        this.stats.retried++;
        const delayMs = this.#queue.backoffDelay(job.attempts);
        this.#logger.info(
          { ...this.#fields(job), maxAttempts: job.maxAttempts, delayMs, code: error.code, error },
          'job failed; retrying',
        );
      } else {
        this.#logger.warn(
          { ...this.#fields(job), code: error.code, error },
          'job failed, but its lease had expired: the attempt is not recorded (another worker holds it)',
        );
      }
    }
  }

  #fields(job: StoredJob): { queue: string; jobId: string; type: string; attempt: number } {
    return { queue: job.queue, jobId: job.id, type: job.type, attempt: job.attempts };
  }

  /** True while the job's lease still covers its whole timeout (it has not waited past its grace). */
  #leaseCovers(job: StoredJob): boolean {
    return (job.leaseUntil ?? 0) - this.#clock.now() >= job.timeoutMs;
  }

  /**
   * Gives back claimed jobs that waited too long to start (behind the batch before them), so no
   * job runs on a lease that may lapse, and be taken over by another worker, while it runs.
   */
  async #giveBack(jobs: readonly StoredJob[]): Promise<void> {
    await this.#queue.release(jobs);
    this.#logger.debug(
      { queue: this.#queue.queue, workerId: this.workerId, released: jobs.length },
      'job worker: claimed jobs waited past their lease grace; given back',
    );
  }

  async #run(): Promise<void> {
    let failures = 0;
    /** The next batch, claimed while the current one ran. */
    let prefetched: Promise<StoredJob[]> | undefined;
    /** How long the last batch ran: prefetching is for batches that end well within the lease grace. */
    let lastBatchMs = 0;
    while (!this.closed) {
      let claimed = 0;
      try {
        const size = this.#claimSize;
        const wasPrefetched = prefetched !== undefined;
        const jobs = await (prefetched ?? this.#queue.claim(this.workerId, size));
        prefetched = undefined;
        claimed = jobs.length;
        const quick = lastBatchMs * 2 < this.#queue.leaseGraceMs;
        // A backlog of quick jobs: claim more at a time; a short claim (the backlog is gone) or a
        // slow batch: back to `batchSize`.
        this.#claimSize = quick && claimed >= size ? Math.min(this.#maxClaimSize, size * 2) : this.#batchSize;
        if (this.#prefetch && quick && claimed >= size && !this.closed) {
          prefetched = this.#queue.claim(this.workerId, this.#claimSize);
          // Awaited on the next turn (or released on close); a failure then counts as a failed poll.
          prefetched.catch(() => {});
        }
        const started = this.#clock.now();
        await this.#runBatch(jobs, wasPrefetched);
        lastBatchMs = this.#clock.now() - started;
        if (failures > 0) {
          this.#logger.info(
            { queue: this.#queue.queue, workerId: this.workerId, failures },
            'job worker: database back',
          );
          failures = 0;
        }
      } catch (error) {
        failures++;
        this.#logOutage(serializeError(error), failures);
        this.#onError(error);
      }
      if (claimed > 0 || this.closed) continue;
      this.#wake = new AbortController();
      const signal = AbortSignal.any([this.#wake.signal, this.#stop.signal]);
      await sleep(this.#pollIntervalMs, { clock: this.#clock, signal, background: true }).catch(() => {});
    }
    // Closed with a batch claimed ahead: give it back unrun (its attempt not counted).
    if (prefetched !== undefined) {
      const jobs = await prefetched.catch(() => [] as StoredJob[]);
      await this.#queue.release(jobs).catch((error: unknown) => this.#onError(error));
    }
  }

  /** An outage is logged when it starts and then every 10th failed poll, not on every poll. */
  #logOutage(error: SerializedError, failures: number): void {
    if (failures !== 1 && failures % 10 !== 0) return;
    this.#logger.warn(
      {
        queue: this.#queue.queue,
        workerId: this.workerId,
        attempt: failures,
        delayMs: this.#pollIntervalMs,
        code: error.code,
        error,
      },
      'job worker: polling the queue failed; retrying',
    );
  }

  /** `undefined` on success, otherwise why it failed and whether it is hopeless. */
  async #execute(job: StoredJob): Promise<{ error: unknown; dead: boolean } | undefined> {
    const definition = this.#handlers.get(job.type);
    if (!definition) {
      return {
        dead: true,
        error: new AgentrixError(
          'INVALID_ARGUMENT',
          `Unknown job type "${job.type}": this worker handles ${[...this.#handlers.keys()].map((type) => `"${type}"`).join(', ') || 'no types'}`,
        ),
      };
    }
    let payload = job.payload;
    if (definition.schema) {
      const parsed = definition.schema.safeParse(job.payload);
      if (!parsed.success) {
        return {
          dead: true,
          error: new AgentrixError(
            'INVALID_ARGUMENT',
            `Job payload for "${job.type}" failed its schema: ${formatIssues(parsed.error)}`,
          ),
        };
      }
      payload = parsed.data;
    }
    const controller = new AbortController();
    this.#inFlight.set(job.id, controller);
    let timer: unknown;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.#clock.setTimeout(() => {
        const error = new AgentrixError('TIMEOUT', `Job ${job.id} ("${job.type}") ran longer than ${job.timeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, job.timeoutMs);
    });
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    try {
      const attempt = () =>
        Promise.race([
          Promise.resolve().then(() => definition.handler(payload, { signal: controller.signal, job })),
          timeout,
          aborted,
        ]);
      await (this.#tracing ? this.#tracing.runJob(job, attempt) : attempt());
      return undefined;
    } catch (error) {
      return { error, dead: false };
    } finally {
      this.#clock.clearTimeout(timer);
      this.#inFlight.delete(job.id);
      timeout.catch(() => {});
      aborted.catch(() => {});
    }
  }

  /**
   * Stops claiming and waits for the jobs in hand. With `abort: true` their signals fire first
   * (they count as failed attempts and are retried). Idempotent: later calls return the same promise.
   */
  close(options: { abort?: boolean } = {}): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      this.#wake?.abort();
      if (options.abort) {
        for (const controller of this.#inFlight.values()) {
          controller.abort(new AgentrixError('ABORTED', `Worker ${this.workerId} closed`));
        }
      }
      await this.#loop?.catch(() => {});
      await this.#unlisten?.().catch(() => {});
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
