import { AgentrixError } from '@agentrix/core';
import { type AddJobInput, errorText } from '@agentrix/scheduler';
import { type Plan, type PlanJob, PlanSchema, stripUndefined, TASK } from './hq-jobs.js';
import type { HqAgentManager } from './hq-options.js';

const REPLY_FORMAT = '{"tasks":[{"title":"...","description":"...","role":"worker"}]}';

export interface PlanGoalOptions {
  agentrix: HqAgentManager;
  planner: string;
  timeoutMs: number;
  signal: AbortSignal;
}

/**
 * Asks the planner agent for the goal's tasks; one more time, saying what was wrong, after an
 * answer that is not a plan. `MODEL_RESPONSE_INVALID` after a second bad answer.
 */
export async function planGoal(goal: PlanJob['goal'], options: PlanGoalOptions): Promise<Plan> {
  const ask = async (content: string) =>
    parsePlan(
      (
        await options.agentrix.ask(options.planner, content, {
          timeoutMs: options.timeoutMs,
          signal: options.signal,
          data: { hq: { goalId: goal.id, kind: 'plan' } },
        })
      ).content,
    );
  const first = await ask(planPrompt(goal, options));
  if (first.ok) return first.plan;
  const second = await ask(`Your answer was not a valid plan (${first.error}). Reply with JSON only: ${REPLY_FORMAT}.`);
  if (!second.ok)
    throw new AgentrixError('MODEL_RESPONSE_INVALID', `The planner's plan is invalid twice: ${second.error}`);
  return second.plan;
}

/** The goal and the agents the planner may give tasks to. */
function planPrompt(goal: PlanJob['goal'], options: PlanGoalOptions): string {
  const agents = options.agentrix
    .list()
    .filter((agent) => agent.id !== options.planner)
    .map((agent) => `- ${agent.id}${agent.role ? ` (role: ${agent.role})` : ''}`)
    .join('\n');
  return [
    `Goal: ${goal.text}`,
    `Priority: ${goal.priority}`,
    goal.deadline === undefined ? undefined : `Deadline: ${new Date(goal.deadline).toISOString()}`,
    `Agents:\n${agents || '(none)'}`,
    `Break the goal into tasks. Reply with JSON only, like ${REPLY_FORMAT}.`,
  ]
    .filter(Boolean)
    .join('\n');
}

/** The plan's tasks as jobs: ids `<goal>:task-<n>`, the goal's priority, idempotent by task id. */
export function taskJobs(
  goal: PlanJob['goal'],
  plan: Plan,
  options: { maxAttempts: number; timeoutMs: number },
): AddJobInput[] {
  return plan.tasks.map((task, index) => {
    const taskId = `${goal.id}:task-${index + 1}`;
    return {
      type: TASK,
      id: taskId,
      payload: stripUndefined({ ...task, goalId: goal.id, taskId, deadline: goal.deadline }),
      priority: goal.priority,
      maxAttempts: options.maxAttempts,
      timeoutMs: options.timeoutMs,
      idempotencyKey: `hq-task:${taskId}`,
    };
  });
}

/** Reads a planner answer: JSON (fenced or bare) matching {@link PlanSchema}. */
export function parsePlan(text: string): { ok: true; plan: Plan } | { ok: false; error: string } {
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
