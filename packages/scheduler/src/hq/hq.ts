import { AgentrixError, type Clock, randomId, type SendInput, systemClock } from '@agentrix/core';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Dispatcher } from '../dispatcher.js';
import { errorText, invalidArgument } from '../errors.js';
import type { JobQueue } from '../job-queue.js';
import { JobWorker } from '../job-worker.js';
import { JOBS_TABLE } from '../migrations.js';
import { Scheduler } from '../scheduler.js';

/** What the HQ needs of an agent manager (`AgentManager` from `@agentrix/runtime` fits). */
export interface HqAgentManager {
  ask(
    agentId: string,
    content: string,
    options?: { timeoutMs?: number; signal?: AbortSignal; data?: unknown },
  ): Promise<{ content: string }>;
  send(input: SendInput): Promise<unknown>;
  list(filter?: { role?: string }): readonly { id: string; role: string | undefined; state: string }[];
  pause(agentId: string): unknown;
  resume(agentId: string): unknown;
}

/** What the HQ reads of an LLM gateway (`createGateway` from `@agentrix/gateway` fits). */
export interface HqGateway {
  report(options?: { day?: string }): Promise<{
    total: { costUsd: number; calls: number };
    byAgent: Record<string, { costUsd: number; calls: number }>;
  }>;
  budgetStatus?(scope?: Record<string, unknown>): Promise<readonly HqBudgetLine[]>;
}

export interface HqBudgetLine {
  budget: string;
  period: string;
  unit: string;
  limit: number;
  spent: number;
  reserved: number;
  remaining: number;
}

export interface HqOptions {
  agentrix: HqAgentManager;
  /** Goals and tasks are jobs on this queue (types `hq.plan` and `hq.task`); give the HQ its own queue name. */
  queue: JobQueue;
  /** The agent that breaks goals into tasks. */
  planner: string;
  /** Assigns tasks through the dispatcher (profiles, ranking, fan-out). Default: role match among the manager's agents. */
  dispatcher?: Dispatcher;
  /** Spend per agent in reports, and the HQ's per-agent caps. */
  gateway?: HqGateway;
  /** The role a task without one is given to. Default `'worker'`. */
  defaultRole?: string;
  /** How long one task may take (the `ask` timeout). Default 300 000 (5 minutes). */
  taskTimeoutMs?: number;
  /** How long the planner may take for one answer. Default 120 000. */
  planTimeoutMs?: number;
  /** Attempts per task (retries with the queue's backoff). Default 2. */
  taskMaxAttempts?: number;
  /** Cron of the progress report tick (stored in the schedules table as agent `hqId`). Default `'0 18 * * *'`; `false` for none. */
  reportCron?: string | false;
  /** Time zone of `reportCron`. */
  timezone?: string;
  /** Called with each report made by the tick. */
  onReport?: (report: HqReport) => void;
  /** Called with what happens (goal planned, task done / failed, report). */
  onEvent?: (event: HqEvent) => void;
  /** USD per UTC day per agent; an agent at its cap gets no new task (needs `gateway`). */
  agentBudgets?: Record<string, number>;
  /** The address of the HQ's own ticks. Default `'hq'`. */
  hqId?: string;
  /** Tasks run at once. Default 4. */
  concurrency?: number;
  /** Wait between empty polls of the worker. Default 250 ms. */
  pollIntervalMs?: number;
  clock?: Clock;
  /** Errors of the worker loop and the scheduler. */
  onError?: (error: unknown) => void;
}

export interface GoalInput {
  text: string;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** Epoch ms or a Date; one in the past is rejected. */
  deadline?: number | Date;
  id?: string;
}

export interface Goal {
  id: string;
  text: string;
  priority: number;
  deadline: number | undefined;
  createdAt: number;
}

export const PlannedTaskSchema = z.object({
  title: z.string().min(1),
  description: z.string().optional(),
  role: z.string().min(1).optional(),
  tags: z.array(z.string()).optional(),
  category: z.string().optional(),
});
export const PlanSchema = z.object({ tasks: z.array(PlannedTaskSchema).min(1).max(50) });
export type PlannedTask = z.infer<typeof PlannedTaskSchema>;

const PlanJobSchema = z.object({
  goal: z.object({
    id: z.string(),
    text: z.string(),
    priority: z.number(),
    deadline: z.number().optional(),
    createdAt: z.number(),
  }),
});
const TaskJobSchema = PlannedTaskSchema.extend({
  goalId: z.string(),
  taskId: z.string(),
  deadline: z.number().optional(),
});
type TaskJob = z.infer<typeof TaskJobSchema>;

export type GoalStatus = 'planning' | 'in-progress' | 'done' | 'failed';

export interface TaskCounts {
  done: number;
  failed: number;
  /** Queued or running (retries included). */
  inProgress: number;
}

export interface HqReport {
  generatedAt: number;
  paused: boolean;
  goals: (Goal & { status: GoalStatus; tasks: TaskCounts; error: string | undefined })[];
  tasks: TaskCounts;
  /** From the gateway's `report()` for the day (UTC), when a gateway is given. */
  spend?: { day: string; totalUsd: number; byAgent: Record<string, { costUsd: number; calls: number }> };
  /** From the gateway's `budgetStatus()`, when it has one. */
  budgets?: readonly HqBudgetLine[];
  /** The HQ's own per-agent caps (USD per day). */
  agentBudgets: Record<string, number>;
}

export type HqEvent =
  | { type: 'goal.planned'; goalId: string; tasks: number }
  | { type: 'goal.failed'; goalId: string; error: string }
  | { type: 'task.started'; goalId: string; taskId: string; agentId: string | undefined }
  | { type: 'task.done'; goalId: string; taskId: string; agentId: string | undefined; result: string }
  | { type: 'task.failed'; goalId: string; taskId: string; error: string }
  | { type: 'report'; report: HqReport };

export interface TaskResult {
  taskId: string;
  goalId: string;
  title: string;
  agentId: string | undefined;
  result: string;
}

/** One task of a goal, as {@link Hq.tasks} lists it. */
export interface HqTask {
  taskId: string;
  goalId: string;
  title: string;
  description: string | undefined;
  role: string | undefined;
  /** The task job's state on the queue (`dead`: failed for good). */
  status: 'pending' | 'running' | 'done' | 'failed' | 'dead';
  attempts: number;
  /** Who did it, and its answer (known in the process that ran it). */
  agentId: string | undefined;
  result: string | undefined;
  lastError: string | undefined;
}

const KEPT_REPORTS = 30;
const PLAN = 'hq.plan';
const TASK = 'hq.task';

/**
 * The autonomous HQ loop: goals -> a planner agent's tasks on a {@link JobQueue} -> agents (role
 * match or a {@link Dispatcher}) with a per-task timeout -> progress reports (a cron tick and on
 * demand) with spend per agent; pause and resume everything; per-agent budget caps.
 */
export class Hq implements AsyncDisposable {
  readonly scheduler: Scheduler;
  readonly hqId: string;
  readonly #options: HqOptions;
  readonly #queue: JobQueue;
  readonly #clock: Clock;
  readonly #agentBudgets: Map<string, number>;
  readonly #results = new Map<string, TaskResult>();
  readonly #reports: HqReport[] = [];
  readonly #load = new Map<string, number>();
  readonly #waiters = new Set<() => void>();
  #worker: JobWorker | undefined;
  #paused = false;
  #pausedAgents: string[] = [];
  #started = false;
  #closed = false;
  #rotation = 0;

  constructor(options: HqOptions) {
    if (!options?.agentrix || !options.queue || typeof options.planner !== 'string' || !options.planner) {
      throw invalidArgument('createHq needs { agentrix, queue, planner: agentId }');
    }
    this.#options = options;
    this.#queue = options.queue;
    this.#clock = options.clock ?? options.queue.clock ?? systemClock;
    this.hqId = options.hqId ?? 'hq';
    this.#agentBudgets = new Map(Object.entries(options.agentBudgets ?? {}));
    for (const [agentId, usd] of this.#agentBudgets) checkBudget(agentId, usd);
    this.scheduler = new Scheduler({
      database: options.queue.database,
      clock: this.#clock,
      send: (input) => (input.to === this.hqId ? this.#tick() : options.agentrix.send(input)),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  /** The queue its goals and tasks are jobs on. */
  get queue(): JobQueue {
    return this.#queue;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Starts the scheduler (report tick) and the task worker. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.scheduler.start();
    const cron = this.#options.reportCron ?? '0 18 * * *';
    if (cron !== false) {
      await this.scheduler.schedule({
        agentId: this.hqId,
        cron,
        content: 'report',
        ...(this.#options.timezone ? { timezone: this.#options.timezone } : {}),
      });
    }
    if (!this.#paused) await this.#startWorker();
  }

  /** Adds a goal: its plan job goes on the queue (priority = the goal's). A past deadline is INVALID_ARGUMENT. */
  async addGoal(input: GoalInput): Promise<Goal> {
    const parsed = z
      .object({
        text: z.string().trim().min(1),
        priority: z.number().finite().default(0),
        deadline: z.union([z.number().finite(), z.date()]).optional(),
        id: z.string().min(1).max(128).optional(),
      })
      .safeParse(input);
    if (!parsed.success) {
      throw invalidArgument(
        `Invalid goal: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'goal'}: ${issue.message}`).join('; ')}`,
      );
    }
    const now = this.#clock.now();
    const deadline = parsed.data.deadline instanceof Date ? parsed.data.deadline.getTime() : parsed.data.deadline;
    if (deadline !== undefined && deadline <= now) {
      throw invalidArgument(
        `Goal deadline ${new Date(deadline).toISOString()} is in the past (now ${new Date(now).toISOString()}): "${parsed.data.text}"`,
        { deadline, now },
      );
    }
    const goal: Goal = {
      id: parsed.data.id ?? `goal-${randomId()}`,
      text: parsed.data.text,
      priority: parsed.data.priority,
      deadline,
      createdAt: now,
    };
    const { id, added } = await this.#queue.add({
      type: PLAN,
      id: goal.id,
      payload: { goal: stripUndefined(goal) },
      priority: goal.priority,
      maxAttempts: 1,
      timeoutMs: (this.#options.planTimeoutMs ?? 120_000) * 2 + 5_000,
      idempotencyKey: `hq-goal:${goal.id}`,
    });
    if (!added) throw invalidArgument(`A goal with id "${goal.id}" exists already`, { jobId: id });
    this.#notify();
    return goal;
  }

  /** Done / failed / in progress per goal and in all, spend per agent (with a gateway). */
  async report(options: { day?: string } = {}): Promise<HqReport> {
    const { rows } = await sql<{
      id: string;
      type: string;
      status: string;
      payload: unknown;
      last_error: string | null;
    }>`
      select id, type, status, payload, last_error from ${sql.table(JOBS_TABLE)}
      where queue = ${this.#queue.queue} and type in (${PLAN}, ${TASK})
      order by created_at, id`.execute(this.#queue.database.kysely);
    const goals = new Map<string, HqReport['goals'][number]>();
    const tasks: TaskCounts = { done: 0, failed: 0, inProgress: 0 };
    for (const row of rows) {
      const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as Record<
        string,
        unknown
      >;
      if (row.type === PLAN) {
        const goal = PlanJobSchema.parse(payload).goal;
        const failed = row.status === 'dead' || row.status === 'failed';
        goals.set(goal.id, {
          ...goal,
          deadline: goal.deadline,
          status: row.status === 'done' ? 'in-progress' : failed ? 'failed' : 'planning',
          tasks: { done: 0, failed: 0, inProgress: 0 },
          error: failed ? (row.last_error ?? undefined) : undefined,
        });
      }
    }
    for (const row of rows) {
      if (row.type !== TASK) continue;
      const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as TaskJob;
      const key: keyof TaskCounts = row.status === 'done' ? 'done' : row.status === 'dead' ? 'failed' : 'inProgress';
      tasks[key]++;
      const goal = goals.get(payload.goalId);
      if (goal) goal.tasks[key]++;
    }
    for (const goal of goals.values()) {
      if (goal.status !== 'in-progress' || goal.tasks.inProgress > 0) continue;
      goal.status = goal.tasks.failed > 0 ? 'failed' : 'done';
    }
    const report: HqReport = {
      generatedAt: this.#clock.now(),
      paused: this.#paused,
      goals: [...goals.values()],
      tasks,
      agentBudgets: Object.fromEntries(this.#agentBudgets),
    };
    const gateway = this.#options.gateway;
    if (gateway) {
      const day = options.day ?? new Date(this.#clock.now()).toISOString().slice(0, 10);
      const usage = await gateway.report({ day });
      report.spend = {
        day,
        totalUsd: usage.total.costUsd,
        byAgent: Object.fromEntries(
          Object.entries(usage.byAgent).map(([agentId, totals]) => [
            agentId,
            { costUsd: totals.costUsd, calls: totals.calls },
          ]),
        ),
      };
      if (typeof gateway.budgetStatus === 'function') report.budgets = await gateway.budgetStatus({});
    }
    return report;
  }

  /** The answers of a goal's finished tasks (kept in this process). */
  results(goalId?: string): TaskResult[] {
    return [...this.#results.values()].filter((result) => goalId === undefined || result.goalId === goalId);
  }

  /** Resolves with the goal's report line once it is done or failed; TIMEOUT after `timeoutMs` (default 60 s). */
  async waitForGoal(goalId: string, options: { timeoutMs?: number } = {}): Promise<HqReport['goals'][number]> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const deadline = this.#clock.now() + timeoutMs;
    for (;;) {
      const changed = new Promise<void>((resolve) => this.#waiters.add(resolve));
      const goal = (await this.report()).goals.find((line) => line.id === goalId);
      if (!goal) throw invalidArgument(`Unknown goal "${goalId}"`);
      if (goal.status === 'done' || goal.status === 'failed') return goal;
      const left = deadline - this.#clock.now();
      if (left <= 0)
        throw new AgentrixError('TIMEOUT', `Goal "${goalId}" is still ${goal.status} after ${timeoutMs} ms`);
      let timer: unknown;
      await Promise.race([
        changed,
        new Promise<void>((resolve) => {
          timer = this.#clock.setTimeout(resolve, Math.min(left, 200));
        }),
      ]);
      this.#clock.clearTimeout(timer);
    }
  }

  /** Pauses everything: the report tick and other schedules, the task worker (tasks in hand finish), then the agents. */
  async pause(): Promise<void> {
    if (this.#paused) return;
    this.#paused = true;
    await this.scheduler.pauseAll();
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.close();
    this.#pausedAgents = [];
    for (const agent of this.#options.agentrix.list()) {
      if (agent.state === 'idle' || agent.state === 'running') {
        this.#options.agentrix.pause(agent.id);
        this.#pausedAgents.push(agent.id);
      }
    }
  }

  /** Resumes what {@link pause} stopped. */
  async resume(): Promise<void> {
    if (!this.#paused) return;
    this.#paused = false;
    for (const agentId of this.#pausedAgents) {
      try {
        this.#options.agentrix.resume(agentId);
      } catch (error) {
        this.#options.onError?.(error);
      }
    }
    this.#pausedAgents = [];
    await this.scheduler.resumeAll();
    if (this.#started) await this.#startWorker();
  }

  /**
   * Sets an agent's HQ cap in USD per UTC day (`undefined` removes it). Checked against the
   * gateway's report before each task; the gateway's own hard budgets are fixed when it is created.
   */
  setAgentBudget(agentId: string, usdPerDay: number | undefined): void {
    if (usdPerDay === undefined) {
      this.#agentBudgets.delete(agentId);
      return;
    }
    checkBudget(agentId, usdPerDay);
    if (!this.#options.gateway) throw invalidArgument('Agent budgets need a gateway (createHq({ gateway }))');
    this.#agentBudgets.set(agentId, usdPerDay);
  }

  /** Stops the worker and the scheduler (tasks in hand finish); leaves the queue, database and agents open. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#worker?.close();
    this.#worker = undefined;
    await this.scheduler.close();
    for (const resolve of this.#waiters) resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #startWorker(): Promise<void> {
    if (this.#closed) return;
    this.#worker = new JobWorker({
      queue: this.#queue,
      batchSize: this.#options.concurrency ?? 4,
      pollIntervalMs: this.#options.pollIntervalMs ?? 250,
      ...(this.#options.onError ? { onError: this.#options.onError } : {}),
      handlers: {
        [PLAN]: { schema: PlanJobSchema, handler: (payload, { signal }) => this.#plan(payload.goal, signal) },
        [TASK]: {
          schema: TaskJobSchema,
          handler: (payload, { signal, job }) =>
            this.#runTask(payload, signal, job.attempts >= job.maxAttempts).finally(() => this.#notify()),
        },
      },
    });
    await this.#worker.start();
  }

  /** Makes a progress report now, as the cron tick does (`onReport`, the `report` event, kept in {@link reports}). */
  async tick(): Promise<HqReport> {
    const report = await this.report();
    this.#reports.unshift(report);
    this.#reports.length = Math.min(this.#reports.length, KEPT_REPORTS);
    this.#options.onReport?.(report);
    this.#emit({ type: 'report', report });
    return report;
  }

  /** The reports the ticks made in this process, newest first (the last 30). */
  reports(): HqReport[] {
    return [...this.#reports];
  }

  /** The tasks of a goal (or of all goals) in the order they were planned, with their queue state and result. */
  async tasks(goalId?: string): Promise<HqTask[]> {
    const { rows } = await sql<{
      status: HqTask['status'];
      payload: unknown;
      attempts: number;
      last_error: string | null;
    }>`
      select status, payload, attempts, last_error from ${sql.table(JOBS_TABLE)}
      where queue = ${this.#queue.queue} and type = ${TASK}
      order by created_at, id`.execute(this.#queue.database.kysely);
    const tasks: HqTask[] = [];
    for (const row of rows) {
      const payload = TaskJobSchema.parse(typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload);
      if (goalId !== undefined && payload.goalId !== goalId) continue;
      const result = this.#results.get(payload.taskId);
      tasks.push({
        taskId: payload.taskId,
        goalId: payload.goalId,
        title: payload.title,
        description: payload.description,
        role: payload.role,
        status: row.status,
        attempts: Number(row.attempts),
        agentId: result?.agentId,
        result: result?.result,
        lastError: row.last_error ?? undefined,
      });
    }
    return tasks;
  }

  async #tick(): Promise<void> {
    await this.tick();
  }

  async #plan(goal: z.infer<typeof PlanJobSchema>['goal'], signal: AbortSignal): Promise<void> {
    const agents = this.#options.agentrix
      .list()
      .filter((agent) => agent.id !== this.#options.planner)
      .map((agent) => `- ${agent.id}${agent.role ? ` (role: ${agent.role})` : ''}`)
      .join('\n');
    const prompt = [
      `Goal: ${goal.text}`,
      `Priority: ${goal.priority}`,
      goal.deadline === undefined ? undefined : `Deadline: ${new Date(goal.deadline).toISOString()}`,
      `Agents:\n${agents || '(none)'}`,
      'Break the goal into tasks. Reply with JSON only, like {"tasks":[{"title":"...","description":"...","role":"worker"}]}.',
    ]
      .filter(Boolean)
      .join('\n');
    const ask = (content: string) =>
      this.#options.agentrix.ask(this.#options.planner, content, {
        timeoutMs: this.#options.planTimeoutMs ?? 120_000,
        signal,
        data: { hq: { goalId: goal.id, kind: 'plan' } },
      });
    let plan: z.infer<typeof PlanSchema>;
    try {
      const first = parsePlan((await ask(prompt)).content);
      if (first.ok) plan = first.plan;
      else {
        const second = parsePlan(
          (
            await ask(
              `Your answer was not a valid plan (${first.error}). Reply with JSON only: {"tasks":[{"title":"...","description":"...","role":"worker"}]}.`,
            )
          ).content,
        );
        if (!second.ok)
          throw new AgentrixError('MODEL_RESPONSE_INVALID', `The planner's plan is invalid twice: ${second.error}`);
        plan = second.plan;
      }
    } catch (error) {
      this.#emit({ type: 'goal.failed', goalId: goal.id, error: errorText(error) });
      this.#notify();
      throw error;
    }
    const timeoutMs = (this.#options.taskTimeoutMs ?? 300_000) + 5_000;
    await this.#queue.addMany(
      plan.tasks.map((task, index) => {
        const taskId = `${goal.id}:task-${index + 1}`;
        return {
          type: TASK,
          id: taskId,
          payload: stripUndefined({ ...task, goalId: goal.id, taskId, deadline: goal.deadline }),
          priority: goal.priority,
          maxAttempts: this.#options.taskMaxAttempts ?? 2,
          timeoutMs,
          idempotencyKey: `hq-task:${taskId}`,
        };
      }),
    );
    this.#emit({ type: 'goal.planned', goalId: goal.id, tasks: plan.tasks.length });
  }

  async #runTask(task: TaskJob, signal: AbortSignal, lastAttempt: boolean): Promise<void> {
    const timeoutMs = this.#options.taskTimeoutMs ?? 300_000;
    const content = task.description ? `${task.title}\n\n${task.description}` : task.title;
    let agentId: string | undefined;
    try {
      if (task.deadline !== undefined && task.deadline <= this.#clock.now()) {
        throw new AgentrixError('TIMEOUT', `The goal's deadline ${new Date(task.deadline).toISOString()} has passed`);
      }
      let result: string;
      const dispatcher = this.#options.dispatcher;
      if (dispatcher) {
        this.#emit({ type: 'task.started', goalId: task.goalId, taskId: task.taskId, agentId: undefined });
        await dispatcher.submit({
          id: task.taskId,
          payload: content,
          conditions: stripUndefined({ tags: task.tags ?? [], category: task.category }),
        });
        const outcome = await dispatcher.dispatch(task.taskId, { signal });
        if (outcome.job.status !== 'COMPLETED') {
          throw new AgentrixError('TOOL_FAILED', `Dispatch of task ${task.taskId} ended ${outcome.job.status}`);
        }
        agentId = outcome.job.winner ?? undefined;
        result = typeof outcome.job.result === 'string' ? outcome.job.result : JSON.stringify(outcome.job.result);
      } else {
        agentId = await this.#assign(task);
        this.#emit({ type: 'task.started', goalId: task.goalId, taskId: task.taskId, agentId });
        this.#load.set(agentId, (this.#load.get(agentId) ?? 0) + 1);
        try {
          const reply = await this.#options.agentrix.ask(agentId, content, {
            timeoutMs,
            signal,
            data: { hq: { goalId: task.goalId, taskId: task.taskId } },
          });
          result = reply.content;
        } finally {
          this.#load.set(agentId, (this.#load.get(agentId) ?? 1) - 1);
        }
      }
      this.#results.set(task.taskId, { taskId: task.taskId, goalId: task.goalId, title: task.title, agentId, result });
      this.#emit({ type: 'task.done', goalId: task.goalId, taskId: task.taskId, agentId, result });
    } catch (error) {
      if (lastAttempt)
        this.#emit({ type: 'task.failed', goalId: task.goalId, taskId: task.taskId, error: errorText(error) });
      throw error;
    }
  }

  /** The least busy agent with the task's role that is under its HQ budget. */
  async #assign(task: TaskJob): Promise<string> {
    const role = task.role ?? this.#options.defaultRole ?? 'worker';
    let candidates = this.#options.agentrix
      .list({ role })
      .filter((agent) => agent.id !== this.#options.planner && agent.state !== 'terminated')
      .map((agent) => agent.id);
    if (candidates.length === 0) {
      throw invalidArgument(`No agent has the role "${role}" for task "${task.title}"`);
    }
    if (this.#agentBudgets.size > 0 && this.#options.gateway) {
      const usage = await this.#options.gateway.report();
      const within = candidates.filter((agentId) => {
        const cap = this.#agentBudgets.get(agentId);
        return cap === undefined || (usage.byAgent[agentId]?.costUsd ?? 0) < cap;
      });
      if (within.length === 0) {
        throw new AgentrixError('BUDGET_EXCEEDED', `Every "${role}" agent is at its HQ budget for today`, {
          details: { agents: candidates },
        });
      }
      candidates = within;
    }
    const rotation = this.#rotation++;
    const ordered = candidates.map((_, index) => candidates[(index + rotation) % candidates.length]!);
    return ordered.reduce((best, agentId) =>
      (this.#load.get(agentId) ?? 0) < (this.#load.get(best) ?? 0) ? agentId : best,
    );
  }

  #emit(event: HqEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch (error) {
      this.#options.onError?.(error);
    }
  }

  #notify(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const resolve of waiters) resolve();
  }
}

/** Creates an {@link Hq} and starts it. */
export async function createHq(options: HqOptions): Promise<Hq> {
  const hq = new Hq(options);
  await hq.start();
  return hq;
}

/** Reads a planner answer: JSON (fenced or bare) matching {@link PlanSchema}. */
export function parsePlan(text: string): { ok: true; plan: z.infer<typeof PlanSchema> } | { ok: false; error: string } {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return { ok: false, error: 'no JSON object in the answer' };
  let value: unknown;
  try {
    value = JSON.parse(text.slice(start, end + 1));
  } catch (error) {
    return { ok: false, error: `not JSON: ${errorText(error)}` };
  }
  const parsed = PlanSchema.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      error: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'plan'}: ${issue.message}`).join('; '),
    };
  }
  return { ok: true, plan: parsed.data };
}

function checkBudget(agentId: string, usd: number): void {
  if (!Number.isFinite(usd) || usd < 0) {
    throw invalidArgument(`The budget of agent "${agentId}" must be a non-negative number of USD, got ${usd}`);
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
