import { AgentrixError, type Clock, randomId, systemClock } from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';
import { errorText, type JobQueue, JobWorker, Scheduler } from '@agentrix/scheduler';
import { z } from 'zod';
import { agentCaps, setAgentCap } from './agent-budgets.js';
import { PLAN, type PlanJob, PlanJobSchema, stripUndefined, TASK, type TaskJob, TaskJobSchema } from './hq-jobs.js';
import type { Goal, GoalInput, HqOptions } from './hq-options.js';
import {
  type GoalLine,
  goalLines,
  type HqEvent,
  type HqReport,
  type HqTask,
  type TaskResult,
  taskLines,
} from './hq-report.js';
import { planGoal, taskJobs } from './planner.js';
import { TaskRunner } from './task-runner.js';

const KEPT_REPORTS = 30;

const GoalInputSchema = z.object({
  text: z.string().trim().min(1),
  priority: z.number().finite().default(0),
  deadline: z.union([z.number().finite(), z.date()]).optional(),
  id: z.string().min(1).max(128).optional(),
});

/**
 * The autonomous HQ loop: goals -> a planner agent's tasks on a {@link JobQueue} -> agents (role
 * match or a `Dispatcher`) with a per-task timeout -> progress reports (a cron tick and on
 * demand) with spend per agent; pause and resume everything; tasks go only to agents with room
 * in their gateway budgets.
 */
export class Hq implements AsyncDisposable {
  readonly scheduler: Scheduler;
  readonly hqId: string;
  readonly #options: HqOptions;
  readonly #queue: JobQueue;
  readonly #clock: Clock;
  readonly #runner: TaskRunner;
  readonly #results = new Map<string, TaskResult>();
  readonly #reports: HqReport[] = [];
  readonly #waiters = new Set<() => void>();
  #worker: JobWorker | undefined;
  #paused = false;
  #pausedAgents: string[] = [];
  #started = false;
  #closed = false;

  constructor(options: HqOptions) {
    if (!options?.agentrix || !options.queue || typeof options.planner !== 'string' || !options.planner) {
      throw invalidArgument('createHq needs { agentrix, queue, planner: agentId }');
    }
    this.#options = options;
    this.#queue = options.queue;
    this.#clock = options.clock ?? options.queue.clock ?? systemClock;
    this.hqId = options.hqId ?? 'hq';
    this.#runner = new TaskRunner({
      agentrix: options.agentrix,
      planner: options.planner,
      clock: this.#clock,
      timeoutMs: options.taskTimeoutMs ?? 300_000,
      defaultRole: options.defaultRole ?? 'worker',
      dispatcher: options.dispatcher,
      gateway: options.gateway,
    });
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
    const goal = this.#parseGoal(input);
    const { id, added } = await this.#queue.add({
      type: PLAN,
      id: goal.id,
      payload: { goal: stripUndefined(goal) },
      priority: goal.priority,
      maxAttempts: 1,
      timeoutMs: (this.#options.planTimeoutMs ?? 120_000) * 2 + 5_000,
      idempotencyKey: `hq-goal:${goal.id}`,
    });
    if (!added) throw invalidArgument(`A goal with id "${goal.id}" exists already`, { details: { jobId: id } });
    this.#notify();
    return goal;
  }

  /** Done / failed / in progress per goal and in all; spend per agent and budgets (with a gateway). */
  async report(options: { day?: string } = {}): Promise<HqReport> {
    const { goals, tasks } = goalLines(await this.#queue.listByType([PLAN, TASK]));
    const report: HqReport = { generatedAt: this.#clock.now(), paused: this.#paused, goals, tasks, agentBudgets: {} };
    const gateway = this.#options.gateway;
    if (!gateway) return report;
    const day = options.day ?? new Date(this.#clock.now()).toISOString().slice(0, 10);
    const usage = await gateway.report({ day });
    report.spend = {
      day,
      totalUsd: usage.total.costUsd,
      byAgent: Object.fromEntries(
        Object.entries(usage.byAgent).map(([agentId, { costUsd, calls }]) => [agentId, { costUsd, calls }]),
      ),
    };
    report.budgets = await gateway.budgetStatus({});
    report.agentBudgets = await agentCaps(
      gateway,
      this.#options.agentrix.list().map((agent) => agent.id),
    );
    return report;
  }

  /** The answers of a goal's finished tasks (kept in this process). */
  results(goalId?: string): TaskResult[] {
    return [...this.#results.values()].filter((result) => goalId === undefined || result.goalId === goalId);
  }

  /** The tasks of a goal (or of all goals) in the order they were planned, with their queue state and result. */
  async tasks(goalId?: string): Promise<HqTask[]> {
    return taskLines(await this.#queue.listByType([TASK]), this.#results, goalId);
  }

  /** Resolves with the goal's report line once it is done or failed; TIMEOUT after `timeoutMs` (default 60 s). */
  async waitForGoal(goalId: string, options: { timeoutMs?: number } = {}): Promise<GoalLine> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const deadline = this.#clock.now() + timeoutMs;
    for (;;) {
      const changed = new Promise<void>((resolve) => this.#waiters.add(resolve));
      const goal = (await this.report()).goals.find((line) => line.id === goalId);
      if (!goal) throw invalidArgument(`Unknown goal "${goalId}"`);
      if (goal.status === 'done' || goal.status === 'failed') return goal;
      const left = deadline - this.#clock.now();
      if (left <= 0) {
        throw new AgentrixError('TIMEOUT', `Goal "${goalId}" is still ${goal.status} after ${timeoutMs} ms`);
      }
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
   * Sets an agent's cap in USD per UTC day: the USD cap of its own daily gateway budget (scope
   * `{ agentId }`), so the gateway enforces it on every call and the HQ gives the agent no task
   * once it is spent. `NOT_FOUND` when the agent has no budget of its own; INVALID_ARGUMENT
   * without a gateway, or for anything but a positive number (a gateway budget cannot be removed).
   */
  async setAgentBudget(agentId: string, usdPerDay: number | undefined): Promise<void> {
    const gateway = this.#options.gateway;
    if (!gateway) throw invalidArgument('Agent budgets are gateway budgets: createHq({ gateway })');
    if (usdPerDay === undefined) {
      throw invalidArgument(`Agent "${agentId}"'s budget is a gateway budget: it can be changed, not removed`);
    }
    await setAgentCap(gateway, agentId, usdPerDay);
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

  #parseGoal(input: GoalInput): Goal {
    const parsed = GoalInputSchema.safeParse(input);
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
        { details: { deadline, now } },
      );
    }
    return {
      id: parsed.data.id ?? `goal-${randomId()}`,
      text: parsed.data.text,
      priority: parsed.data.priority,
      deadline,
      createdAt: now,
    };
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

  async #tick(): Promise<void> {
    await this.tick();
  }

  async #plan(goal: PlanJob['goal'], signal: AbortSignal): Promise<void> {
    const plan = await planGoal(goal, {
      agentrix: this.#options.agentrix,
      planner: this.#options.planner,
      timeoutMs: this.#options.planTimeoutMs ?? 120_000,
      signal,
    }).catch((error: unknown) => {
      this.#emit({ type: 'goal.failed', goalId: goal.id, error: errorText(error) });
      this.#notify();
      throw error;
    });
    await this.#queue.addMany(
      taskJobs(goal, plan, {
        maxAttempts: this.#options.taskMaxAttempts ?? 2,
        timeoutMs: (this.#options.taskTimeoutMs ?? 300_000) + 5_000,
      }),
    );
    this.#emit({ type: 'goal.planned', goalId: goal.id, tasks: plan.tasks.length });
  }

  async #runTask(task: TaskJob, signal: AbortSignal, lastAttempt: boolean): Promise<void> {
    const { goalId, taskId, title } = task;
    try {
      const { agentId, result } = await this.#runner.run(task, signal, (agentId) =>
        this.#emit({ type: 'task.started', goalId, taskId, agentId }),
      );
      this.#results.set(taskId, { taskId, goalId, title, agentId, result });
      this.#emit({ type: 'task.done', goalId, taskId, agentId, result });
    } catch (error) {
      if (lastAttempt) this.#emit({ type: 'task.failed', goalId, taskId, error: errorText(error) });
      throw error;
    }
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
