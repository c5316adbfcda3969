import {
  AgentrixError,
  AgentrixEvents,
  BACKGROUND_TIMER,
  type Clock,
  type Logger,
  type SendInput,
  serializeError,
  silentLogger,
  systemClock,
} from '@agentrix/core';
import { invalidArgument, toNumber } from '@agentrix/core/implement';
import { type Database, jsonb } from '@agentrix/store';
import { Cron } from 'croner';
import type { Selectable } from 'kysely';
import { InvalidCronError } from './errors.js';
import { SCHEDULES_TABLE, schedulerMigrations } from './migrations.js';
import { replacedColumns } from './replaced-columns.js';
import { type SchedulesTable, schedulerKysely } from './scheduler-tables.js';

/**
 * Where ticks go: a `send(input)` function, or anything with one (`AgentManager`, a `MessageBus`).
 * One that also has `get(agentId)` answering `{ state }` (an `AgentManager`) tells the scheduler
 * which agents are paused, so their ticks are coalesced (see {@link Scheduler}).
 */
export type TickTarget =
  | ((input: SendInput) => Promise<unknown>)
  | { send(input: SendInput): Promise<unknown>; get?(agentId: string): { state: string } };

export interface SchedulerOptions {
  /** Schedules are stored here (migrations are applied by `start()`). */
  database: Database;
  /** Receives one `tick` message per due schedule. */
  send: TickTarget;
  clock?: Clock;
  /** The soonest an agent may ask to be woken (`wakeIn`). Default 1 000 ms. */
  minIntervalMs?: number;
  /** The latest an agent may ask to be woken. Default 86 400 000 ms (a day). */
  maxIntervalMs?: number;
  /** Errors from sending a tick or from the database while firing. Default: ignored (they are logged). */
  onError?: (error: unknown, agentId?: string) => void;
  /**
   * Whether an agent takes no messages until someone resumes it. Its ticks are then coalesced:
   * one waits in its inbox, later ones are skipped. Default: when `send` is an `AgentManager`,
   * its `get(agentId).state` is `'paused'` or `'error'`; otherwise only {@link Scheduler.pause} counts.
   */
  isPaused?: (agentId: string) => boolean | Promise<boolean>;
  /** Ticks sent (debug), coalesced (debug), not delivered (warn), firing failures (warn). Default: silent. */
  logger?: Logger;
  /** Where `tick.sent`, `tick.coalesced` and `tick.failed` go. Default: a new `AgentrixEvents`, as `scheduler.events`. */
  events?: AgentrixEvents;
}

export interface ScheduleInput {
  agentId: string;
  /** 5 or 6 fields, like `*\/15 * * * *`. An invalid one throws {@link InvalidCronError}. */
  cron: string;
  /** IANA time zone, like `Europe/Paris`. Default: the process's. */
  timezone?: string;
  /** Text of the tick message. Default `'tick'`. */
  content?: string;
  /** Data merged into the tick message's `data`. */
  data?: Record<string, unknown>;
}

export interface ScheduleRecord {
  agentId: string;
  cron: string;
  timezone: string | undefined;
  content: string;
  data: Record<string, unknown> | undefined;
  /** When the next tick is due (epoch ms). */
  nextRunAt: number;
  lastRunAt: number | undefined;
  paused: boolean;
}

/** What a tick message carries in `data` (besides the schedule's own data). */
export interface TickData {
  /** When the tick was due. */
  scheduledFor: number;
  /** When it was sent; much later than `scheduledFor` after downtime or a pause (missed ticks are sent once). */
  firedAt: number;
}

const MAX_TIMER_MS = 3_600_000;

/**
 * Cron ticks per agent. Each schedule is a row; one timer (on the injected clock) waits for the
 * earliest. A tick is sent as a `tick` message from `cron`. Processes sharing the table send each
 * tick once: a tick is claimed by moving `next_run_at` conditionally.
 *
 * Missed ticks never arrive as a burst; they are coalesced into one catch-up tick:
 * - after downtime, a schedule that missed any number of ticks sends one and continues from the present;
 * - a paused schedule ({@link pause}, {@link pauseAll}) sends nothing, and one tick on resume if any came due;
 * - an agent paused elsewhere (see `isPaused`: by default the `AgentManager` given as `send` says so)
 *   keeps one tick waiting in its inbox, the first that came due, which it reads on resume; the
 *   ticks after it are skipped until the agent is seen taking work again. That state lives in
 *   this process: a restart while the agent stays paused may leave one more tick waiting.
 */
export class Scheduler implements AsyncDisposable {
  readonly events: AgentrixEvents;
  readonly #database: Database;
  readonly #send: (input: SendInput) => Promise<unknown>;
  readonly #clock: Clock;
  readonly #minIntervalMs: number;
  readonly #maxIntervalMs: number;
  readonly #onError: (error: unknown, agentId?: string) => void;
  readonly #isPaused: ((agentId: string) => boolean | Promise<boolean>) | undefined;
  readonly #logger: Logger;
  readonly #schedules = new Map<string, ScheduleRecord>();
  /** Paused agents that already have a tick waiting in their inbox: their next ticks are skipped. */
  readonly #held = new Set<string>();
  #timer: unknown;
  #started = false;
  #closed = false;
  #firing: Promise<void> = Promise.resolve();

  constructor(options: SchedulerOptions) {
    if (!options?.database) throw invalidArgument('Scheduler needs { database, send }');
    const target = options.send;
    if (typeof target === 'function') this.#send = target;
    else if (target && typeof target.send === 'function') this.#send = (input) => target.send(input);
    else throw invalidArgument('Scheduler needs send: a send(input) function, an AgentManager or a MessageBus');
    this.#database = options.database;
    this.#clock = options.clock ?? systemClock;
    this.#minIntervalMs = options.minIntervalMs ?? 1_000;
    this.#maxIntervalMs = options.maxIntervalMs ?? 86_400_000;
    if (!(this.#minIntervalMs >= 0 && this.#maxIntervalMs >= this.#minIntervalMs)) {
      throw invalidArgument(
        `Expected 0 <= minIntervalMs <= maxIntervalMs, got ${this.#minIntervalMs} and ${this.#maxIntervalMs}`,
      );
    }
    this.#onError = options.onError ?? (() => {});
    this.#logger = options.logger ?? silentLogger;
    this.events = options.events ?? new AgentrixEvents();
    this.#isPaused = options.isPaused ?? pausedByState(target);
  }

  get #db() {
    return schedulerKysely(this.#database);
  }

  /** Applies the migrations, loads the stored schedules, sends each missed tick once, and arms the timer. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#assertOpen();
    await this.#database.migrate(schedulerMigrations);
    await this.#reload();
    this.#started = true;
    await this.runDue();
  }

  /** Creates or replaces the schedule of an agent. */
  async schedule(input: ScheduleInput): Promise<ScheduleRecord> {
    this.#assertOpen();
    if (typeof input?.agentId !== 'string' || input.agentId.length === 0) {
      throw invalidArgument('schedule needs { agentId, cron }, like { agentId: "researcher", cron: "*/15 * * * *" }');
    }
    const now = this.#clock.now();
    const nextRunAt = nextCronRun(input.cron, input.timezone, now);
    const row = {
      agent_id: input.agentId,
      cron: input.cron,
      timezone: input.timezone ?? null,
      content: input.content ?? 'tick',
      data: input.data === undefined ? null : jsonb(input.data),
      next_run_at: nextRunAt,
      last_run_at: null,
      paused: false,
      created_at: now,
    };
    await this.#db
      .insertInto(SCHEDULES_TABLE)
      .values(row)
      .onConflict((conflict) =>
        conflict
          .column('agent_id')
          .doUpdateSet(replacedColumns(row, ['cron', 'timezone', 'content', 'data', 'next_run_at'])),
      )
      .execute();
    const stored = await this.get(input.agentId);
    this.#schedules.set(input.agentId, stored!);
    this.#arm();
    return stored!;
  }

  async unschedule(agentId: string): Promise<boolean> {
    this.#assertOpen();
    const result = await this.#db.deleteFrom(SCHEDULES_TABLE).where('agent_id', '=', agentId).executeTakeFirst();
    this.#schedules.delete(agentId);
    this.#held.delete(agentId);
    this.#arm();
    return Number(result.numDeletedRows) > 0;
  }

  async get(agentId: string): Promise<ScheduleRecord | undefined> {
    const row = await this.#db
      .selectFrom(SCHEDULES_TABLE)
      .selectAll()
      .where('agent_id', '=', agentId)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async list(): Promise<ScheduleRecord[]> {
    const rows = await this.#db.selectFrom(SCHEDULES_TABLE).selectAll().orderBy('agent_id').execute();
    return rows.map(toRecord);
  }

  /**
   * The adaptive interval: the agent's next tick comes `ms` from now (clamped to
   * `[minIntervalMs, maxIntervalMs]`), sooner or later than its cron says; after it, the cron
   * takes over again. Returns when the tick is due.
   */
  async wakeIn(agentId: string, ms: number): Promise<number> {
    this.#assertOpen();
    if (!Number.isFinite(ms)) throw invalidArgument(`wakeIn expects a number of milliseconds, got ${ms}`);
    const at = this.#clock.now() + Math.min(this.#maxIntervalMs, Math.max(this.#minIntervalMs, ms));
    const result = await this.#db
      .updateTable(SCHEDULES_TABLE)
      .set({ next_run_at: at })
      .where('agent_id', '=', agentId)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw noSchedule(agentId);
    const cached = this.#schedules.get(agentId);
    if (cached) cached.nextRunAt = at;
    this.#arm();
    return at;
  }

  /**
   * Pauses the schedule of one agent (stored: other processes and restarts see it): no tick is
   * sent until {@link resume}. Call it with the agent's own pause when ticks reach the agent some
   * other way than through an `AgentManager` given as `send` (which the scheduler asks itself).
   */
  async pause(agentId: string): Promise<ScheduleRecord> {
    return this.#setPaused(agentId, true);
  }

  /** Resumes the schedule of one agent; if a tick came due while it was paused, one is sent now. */
  async resume(agentId: string): Promise<ScheduleRecord> {
    const record = await this.#setPaused(agentId, false);
    await this.runDue();
    return (await this.get(agentId)) ?? record;
  }

  async #setPaused(agentId: string, paused: boolean): Promise<ScheduleRecord> {
    this.#assertOpen();
    const row = await this.#db
      .updateTable(SCHEDULES_TABLE)
      .set({ paused })
      .where('agent_id', '=', agentId)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw noSchedule(agentId);
    const stored = toRecord(row);
    this.#schedules.set(agentId, stored);
    this.#arm();
    return stored;
  }

  /** Pauses every schedule (stored: other processes and restarts see it). */
  async pauseAll(): Promise<void> {
    this.#assertOpen();
    await this.#db.updateTable(SCHEDULES_TABLE).set({ paused: true }).execute();
    await this.#reload();
  }

  /** Resumes every schedule, those paused one by one included; one that came due while paused ticks once now. */
  async resumeAll(): Promise<void> {
    this.#assertOpen();
    await this.#db.updateTable(SCHEDULES_TABLE).set({ paused: false }).execute();
    await this.#reload();
    await this.runDue();
  }

  /** Sends the ticks that are due now (the timer calls this; tests may too). */
  runDue(): Promise<void> {
    this.#firing = this.#firing
      .then(() => this.#fireDue())
      .catch((error: unknown) => {
        // The database failed while firing: the due ticks stay due and go out on the next run.
        const serialized = serializeError(error);
        this.#logger.warn({ code: serialized.code, error: serialized }, 'scheduler: firing due ticks failed');
        this.#onError(error);
      });
    return this.#firing;
  }

  async #fireDue(): Promise<void> {
    if (this.#closed) return;
    const now = this.#clock.now();
    for (const schedule of [...this.#schedules.values()]) {
      if (schedule.paused || schedule.nextRunAt > now) continue;
      const next = nextCronRun(schedule.cron, schedule.timezone, now);
      const claimed = await this.#db
        .updateTable(SCHEDULES_TABLE)
        .set({ next_run_at: next, last_run_at: now })
        .where('agent_id', '=', schedule.agentId)
        .where('next_run_at', '=', schedule.nextRunAt)
        .where('paused', '=', false)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 0) {
        // another process fired it, or it changed: take the stored state
        const stored = await this.get(schedule.agentId);
        if (stored) this.#schedules.set(stored.agentId, stored);
        else this.#schedules.delete(schedule.agentId);
        continue;
      }
      const scheduledFor = schedule.nextRunAt;
      schedule.nextRunAt = next;
      schedule.lastRunAt = now;
      const agentId = schedule.agentId;
      if (await this.#agentPaused(agentId)) {
        if (this.#held.has(agentId)) {
          this.#logger.debug({ agentId, scheduledFor }, 'cron tick coalesced: the agent is paused and has one waiting');
          if (this.events.has('tick.coalesced')) this.events.emit('tick.coalesced', { agentId, scheduledFor });
          continue;
        }
        this.#held.add(agentId); // this tick waits in the inbox: it is the catch-up tick
      } else this.#held.delete(agentId);
      const data: TickData & Record<string, unknown> = { ...schedule.data, scheduledFor, firedAt: now };
      try {
        await this.#send({ to: agentId, from: 'cron', type: 'tick', content: schedule.content, data });
      } catch (error) {
        this.#held.delete(agentId);
        const serialized = serializeError(error);
        this.#logger.warn(
          { agentId, scheduledFor, code: serialized.code, error: serialized },
          'cron tick not delivered',
        );
        if (this.events.has('tick.failed'))
          this.events.emit('tick.failed', { agentId, scheduledFor, error: serialized });
        this.#onError(error, agentId);
        continue;
      }
      this.#logger.debug({ agentId, scheduledFor }, 'cron tick sent');
      if (this.events.has('tick.sent')) this.events.emit('tick.sent', { agentId, scheduledFor, firedAt: now });
    }
    this.#arm();
  }

  /** Whether `agentId` takes no work now; a failing check counts as "not paused" (the tick is sent). */
  async #agentPaused(agentId: string): Promise<boolean> {
    if (this.#isPaused === undefined) return false;
    try {
      return (await this.#isPaused(agentId)) === true;
    } catch {
      return false;
    }
  }

  async #reload(): Promise<void> {
    const rows = await this.list();
    this.#schedules.clear();
    for (const row of rows) this.#schedules.set(row.agentId, row);
    this.#arm();
  }

  #arm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed || !this.#started) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const schedule of this.#schedules.values()) {
      if (!schedule.paused && schedule.nextRunAt < earliest) earliest = schedule.nextRunAt;
    }
    if (earliest === Number.POSITIVE_INFINITY) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, earliest - this.#clock.now()));
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#timer = undefined;
        if (earliest - this.#clock.now() > 0) this.#arm();
        else void this.runDue();
      },
      delay,
      BACKGROUND_TIMER,
    );
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new SchedulerClosedError();
    }
  }

  /** Stops the timer and waits for a firing in progress. Leaves the database open. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#firing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function noSchedule(agentId: string): AgentrixError {
  return new AgentrixError(
    'AGENT_NOT_FOUND',
    `No schedule for agent "${agentId}": call schedule({ agentId, cron }) first`,
    {
      agentId,
    },
  );
}

/** An `AgentManager`-like target answers `get(agentId).state`: paused and errored agents wait for `resume()`. */
function pausedByState(target: TickTarget): ((agentId: string) => boolean) | undefined {
  if (typeof target !== 'object' || target === null || typeof target.get !== 'function') return undefined;
  const get = target.get.bind(target);
  return (agentId) => {
    const state = get(agentId)?.state;
    return state === 'paused' || state === 'error';
  };
}

class SchedulerClosedError extends AgentrixError {
  constructor() {
    super('CLOSED', 'The scheduler is closed: create a new Scheduler');
  }
}

/** Validates a cron expression and returns its next run strictly after `after`. */
export function nextCronRun(expression: string, timezone: string | undefined, after: number): number {
  let cron: Cron;
  try {
    if (typeof expression !== 'string' || expression.trim().length === 0) throw new TypeError('empty expression');
    cron = new Cron(expression, { paused: true, ...(timezone ? { timezone } : {}) });
  } catch (error) {
    throw new InvalidCronError(String(expression), error);
  }
  const next = cron.nextRun(new Date(after));
  if (!next) throw new InvalidCronError(expression, new Error('it never runs again'));
  return next.getTime();
}

function toRecord(row: Selectable<SchedulesTable>): ScheduleRecord {
  return {
    agentId: row.agent_id,
    cron: row.cron,
    timezone: row.timezone ?? undefined,
    content: row.content,
    data: row.data ?? undefined,
    nextRunAt: toNumber(row.next_run_at),
    lastRunAt: row.last_run_at === null || row.last_run_at === undefined ? undefined : toNumber(row.last_run_at),
    paused: Boolean(row.paused),
  };
}
