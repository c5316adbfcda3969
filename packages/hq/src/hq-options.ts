import type { Clock, SendInput } from '@agentrix/core';
import type { Dispatcher, JobQueue } from '@agentrix/scheduler';
import type { HqEvent, HqReport } from './hq-report.js';

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

/** One budget a scope is under, as the gateway's `budgetStatus()` reads it. */
export interface HqBudgetLine {
  budget: string;
  period: string;
  unit: string;
  limit: number;
  spent: number;
  reserved: number;
  remaining: number;
}

/** What the HQ uses of an LLM gateway (`createGateway` from `@agentrix/gateway` fits). */
export interface HqGateway {
  report(options?: { day?: string }): Promise<{
    total: { costUsd: number; calls: number };
    byAgent: Record<string, { costUsd: number; calls: number }>;
  }>;
  budgetStatus(scope?: { agentId?: string }): Promise<readonly HqBudgetLine[]>;
  setBudget(id: string, caps: { usd?: number }): void;
}

export interface HqOptions {
  agentrix: HqAgentManager;
  /** Goals and tasks are jobs on this queue (types `hq.plan` and `hq.task`); give the HQ its own queue name. */
  queue: JobQueue;
  /** The agent that breaks goals into tasks. */
  planner: string;
  /** Assigns tasks through the dispatcher (profiles, ranking, fan-out). Default: role match among the manager's agents. */
  dispatcher?: Dispatcher;
  /**
   * Spend per agent in reports, and the budgets: a task goes only to an agent with room left in
   * every gateway budget it is under; an agent's own cap is a gateway budget with scope `{ agentId }`.
   */
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
