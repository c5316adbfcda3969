import type { StoredJob } from '@agentrix/scheduler';
import { PLAN, PlanJobSchema, TASK, type TaskJob, TaskJobSchema } from './hq-jobs.js';
import type { Goal, HqBudgetLine } from './hq-options.js';

export type GoalStatus = 'planning' | 'in-progress' | 'done' | 'failed';

export interface TaskCounts {
  done: number;
  failed: number;
  /** Queued or running (retries included). */
  inProgress: number;
}

export interface GoalLine extends Goal {
  status: GoalStatus;
  tasks: TaskCounts;
  error: string | undefined;
}

export interface HqReport {
  generatedAt: number;
  paused: boolean;
  goals: GoalLine[];
  tasks: TaskCounts;
  /** From the gateway's `report()` for the day (UTC), when a gateway is given. */
  spend?: { day: string; totalUsd: number; byAgent: Record<string, { costUsd: number; calls: number }> };
  /** The gateway's global budgets (`budgetStatus()`), when a gateway is given. */
  budgets?: readonly HqBudgetLine[];
  /** Each agent's own USD per day cap: its gateway budget with scope `{ agentId }` ({} without a gateway). */
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

/** One task of a goal, as `Hq.tasks` lists it. */
export interface HqTask {
  taskId: string;
  goalId: string;
  title: string;
  description: string | undefined;
  role: string | undefined;
  /** The task job's state on the queue (`dead`: failed for good). */
  status: StoredJob['status'];
  attempts: number;
  /** Who did it, and its answer (known in the process that ran it). */
  agentId: string | undefined;
  result: string | undefined;
  lastError: string | undefined;
}

/** Goals with their status and task counts, and the counts of all tasks, from the HQ's jobs (oldest first). */
export function goalLines(jobs: readonly StoredJob[]): { goals: GoalLine[]; tasks: TaskCounts } {
  const goals = new Map<string, GoalLine>();
  for (const job of jobs) {
    if (job.type !== PLAN) continue;
    const { goal } = PlanJobSchema.parse(job.payload);
    const failed = job.status === 'dead' || job.status === 'failed';
    goals.set(goal.id, {
      ...goal,
      deadline: goal.deadline,
      // A done plan job means the tasks are on the queue: the goal is done when they are.
      status: job.status === 'done' ? 'in-progress' : failed ? 'failed' : 'planning',
      tasks: { done: 0, failed: 0, inProgress: 0 },
      error: failed ? job.lastError : undefined,
    });
  }
  const tasks: TaskCounts = { done: 0, failed: 0, inProgress: 0 };
  for (const job of jobs) {
    if (job.type !== TASK) continue;
    const key = taskCount(job.status);
    tasks[key]++;
    const goal = goals.get(taskPayload(job).goalId);
    if (goal) goal.tasks[key]++;
  }
  for (const goal of goals.values()) {
    if (goal.status !== 'in-progress' || goal.tasks.inProgress > 0) continue;
    goal.status = goal.tasks.failed > 0 ? 'failed' : 'done';
  }
  return { goals: [...goals.values()], tasks };
}

/** The tasks among the HQ's jobs (of one goal when given), with what this process knows of their results. */
export function taskLines(
  jobs: readonly StoredJob[],
  results: ReadonlyMap<string, TaskResult>,
  goalId: string | undefined,
): HqTask[] {
  const tasks: HqTask[] = [];
  for (const job of jobs) {
    if (job.type !== TASK) continue;
    const payload = taskPayload(job);
    if (goalId !== undefined && payload.goalId !== goalId) continue;
    const result = results.get(payload.taskId);
    tasks.push({
      taskId: payload.taskId,
      goalId: payload.goalId,
      title: payload.title,
      description: payload.description,
      role: payload.role,
      status: job.status,
      attempts: job.attempts,
      agentId: result?.agentId,
      result: result?.result,
      lastError: job.lastError,
    });
  }
  return tasks;
}

function taskPayload(job: StoredJob): TaskJob {
  return TaskJobSchema.parse(job.payload);
}

function taskCount(status: StoredJob['status']): keyof TaskCounts {
  if (status === 'done') return 'done';
  return status === 'dead' ? 'failed' : 'inProgress';
}
