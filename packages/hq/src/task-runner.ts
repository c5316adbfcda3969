import type { Clock } from '@agentrix/core';
import { AgentrixError } from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';
import type { Dispatcher } from '@agentrix/scheduler';
import { withinBudgets } from './agent-budgets.js';
import { stripUndefined, type TaskJob } from './hq-jobs.js';
import type { HqAgentManager, HqGateway } from './hq-options.js';

export interface TaskRunnerOptions {
  agentrix: HqAgentManager;
  planner: string;
  clock: Clock;
  timeoutMs: number;
  defaultRole: string;
  dispatcher?: Dispatcher | undefined;
  gateway?: HqGateway | undefined;
}

export interface TaskOutcome {
  agentId: string | undefined;
  result: string;
}

/**
 * Runs one task: through the dispatcher when there is one, else on the least busy agent with the
 * task's role that has room in its gateway budgets (ties rotate).
 */
export class TaskRunner {
  readonly #options: TaskRunnerOptions;
  readonly #load = new Map<string, number>();
  #rotation = 0;

  constructor(options: TaskRunnerOptions) {
    this.#options = options;
  }

  /** `onStarted` is called once the task has an agent (or went to the dispatcher: `undefined`). */
  async run(
    task: TaskJob,
    signal: AbortSignal,
    onStarted: (agentId: string | undefined) => void,
  ): Promise<TaskOutcome> {
    if (task.deadline !== undefined && task.deadline <= this.#options.clock.now()) {
      throw new AgentrixError('TIMEOUT', `The goal's deadline ${new Date(task.deadline).toISOString()} has passed`);
    }
    const content = task.description ? `${task.title}\n\n${task.description}` : task.title;
    const dispatcher = this.#options.dispatcher;
    if (dispatcher) {
      onStarted(undefined);
      return dispatch(dispatcher, task, content, signal);
    }
    const agentId = await this.#assign(task);
    onStarted(agentId);
    this.#load.set(agentId, (this.#load.get(agentId) ?? 0) + 1);
    try {
      const reply = await this.#options.agentrix.ask(agentId, content, {
        timeoutMs: this.#options.timeoutMs,
        signal,
        data: { hq: { goalId: task.goalId, taskId: task.taskId } },
      });
      return { agentId, result: reply.content };
    } finally {
      this.#load.set(agentId, (this.#load.get(agentId) ?? 1) - 1);
    }
  }

  async #assign(task: TaskJob): Promise<string> {
    const role = task.role ?? this.#options.defaultRole;
    let candidates = this.#options.agentrix
      .list({ role })
      .filter((agent) => agent.id !== this.#options.planner && agent.state !== 'terminated')
      .map((agent) => agent.id);
    if (candidates.length === 0) throw invalidArgument(`No agent has the role "${role}" for task "${task.title}"`);
    const gateway = this.#options.gateway;
    if (gateway) {
      const within = await withinBudgets(gateway, candidates);
      if (within.length === 0) {
        throw new AgentrixError('BUDGET_EXCEEDED', `Every "${role}" agent is at a gateway budget for now`, {
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
}

async function dispatch(
  dispatcher: Dispatcher,
  task: TaskJob,
  content: string,
  signal: AbortSignal,
): Promise<TaskOutcome> {
  await dispatcher.submit({
    id: task.taskId,
    payload: content,
    conditions: stripUndefined({ tags: task.tags ?? [], category: task.category }),
  });
  const { job } = await dispatcher.dispatch(task.taskId, { signal });
  if (job.status !== 'completed') {
    throw new AgentrixError('TOOL_FAILED', `Dispatch of task ${task.taskId} ended ${job.status}`);
  }
  return { agentId: job.winner, result: typeof job.result === 'string' ? job.result : JSON.stringify(job.result) };
}
