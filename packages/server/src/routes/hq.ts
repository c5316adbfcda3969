import type { Hq } from '@agentrix/hq';
import { notFound } from '../http-error.js';
import { route } from '../route.js';
import { HqBudgetBody, ReportQuery, StrategicGoalBody } from '../schemas.js';
import type { ServerContext } from '../server-context.js';

/** The seed's HQ endpoints (`/api/hq/strategic-goal`, `pause`, `resume`, `budget`, `tick`) and goals -> tasks -> reports. */
export function hqRoutes(context: ServerContext) {
  const hq = (): Hq => {
    if (!context.hq) throw notFound('No HQ is served: pass `hq` to createServer');
    return context.hq;
  };
  return [
    route({
      method: 'POST',
      path: '/api/hq/strategic-goal',
      scope: 'operate',
      tag: 'hq',
      summary: 'Give the HQ a strategic goal: the planner breaks it into tasks',
      body: StrategicGoalBody,
      status: 201,
      handler: async ({ body }) => {
        const deadline = typeof body.deadline === 'string' ? Date.parse(body.deadline) : body.deadline;
        const goal = await hq().addGoal({
          text: body.goal,
          ...(body.priority !== undefined ? { priority: body.priority } : {}),
          ...(deadline !== undefined ? { deadline } : {}),
          ...(body.id !== undefined ? { id: body.id } : {}),
        });
        return { goal };
      },
    }),
    route({
      method: 'POST',
      path: '/api/hq/pause',
      scope: 'operate',
      tag: 'hq',
      summary: 'Pause the HQ: schedules, the task worker, then the agents',
      handler: async () => {
        await hq().pause();
        return { paused: true };
      },
    }),
    route({
      method: 'POST',
      path: '/api/hq/resume',
      scope: 'operate',
      tag: 'hq',
      summary: 'Resume what pause stopped',
      handler: async () => {
        await hq().resume();
        return { paused: false };
      },
    }),
    route({
      method: 'POST',
      path: '/api/hq/budget',
      scope: 'admin',
      tag: 'hq',
      summary: "Set an agent's HQ budget in USD per UTC day: its own gateway budget (scope { agentId })",
      body: HqBudgetBody,
      handler: async ({ body }) => {
        const found = hq();
        context.agentrix.get(body.agentId); // AGENT_NOT_FOUND for an unknown agent
        await found.setAgentBudget(body.agentId, body.usdPerDay);
        return { agentBudgets: (await found.report()).agentBudgets };
      },
    }),
    route({
      method: 'POST',
      path: '/api/hq/tick',
      scope: 'operate',
      tag: 'hq',
      summary: 'Make a progress report now, as the cron tick does',
      handler: async () => ({ report: await hq().tick() }),
    }),
    route({
      method: 'GET',
      path: '/api/hq/report',
      scope: 'read',
      tag: 'hq',
      summary: 'Goals, task counts, spend per agent and budgets',
      query: ReportQuery,
      handler: async ({ query }) => ({
        report: await hq().report(query.day !== undefined ? { day: query.day } : {}),
      }),
    }),
    route({
      method: 'GET',
      path: '/api/hq/goals',
      scope: 'read',
      tag: 'hq',
      summary: 'Goals with their status and task counts',
      handler: async () => ({ goals: (await hq().report()).goals }),
    }),
    route({
      method: 'GET',
      path: '/api/hq/goals/:goalId',
      scope: 'read',
      tag: 'hq',
      summary: 'A goal and its tasks (state, agent, result)',
      handler: async ({ params }) => {
        const found = hq();
        const goal = (await found.report()).goals.find((line) => line.id === params.goalId);
        if (!goal) throw notFound(`No goal "${params.goalId}"`, { goalId: params.goalId });
        return { goal, tasks: await found.tasks(goal.id) };
      },
    }),
    route({
      method: 'GET',
      path: '/api/hq/reports',
      scope: 'read',
      tag: 'hq',
      summary: "The reports of the HQ's ticks, newest first",
      handler: () => ({ reports: hq().reports() }),
    }),
  ];
}
