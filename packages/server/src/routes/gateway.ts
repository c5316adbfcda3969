import type { CallScope } from '@agentrix/core';
import type { Gateway } from '@agentrix/gateway';
import { notFound } from '../http-error.js';
import type { LiveEvent } from '../live-event.js';
import { route } from '../route.js';
import { BudgetScopeQuery, BudgetsResponse, LedgerQuery, ReportQuery, SetBudgetBody } from '../schemas.js';
import type { ServerContext } from '../server-context.js';

/** Under this share of its cap left, a budget is listed as low (the gateway's default `lowBudgetRatio`). */
const LOW_BUDGET_RATIO = 0.1;

export const plainEvent = (event: LiveEvent) => ({
  id: event.id,
  name: event.name,
  at: event.at,
  data: JSON.parse(event.json) as unknown,
});

export function gatewayRoutes(context: ServerContext) {
  const gateway = (): Gateway => {
    const found = context.agentrix.gateway;
    if (!found) throw notFound('No gateway is configured: pass `gateway` to createAgentrix');
    return found;
  };
  return [
    route({
      method: 'GET',
      path: '/api/gateway/budgets',
      scope: 'read',
      tag: 'gateway',
      summary: 'Spend against each budget a scope is under, for the current period',
      query: BudgetScopeQuery,
      response: BudgetsResponse,
      handler: async ({ query }) => {
        const scope: CallScope = {};
        if (query.agentId) scope.agentId = query.agentId;
        if (query.userId) scope.userId = query.userId;
        if (query.workflowId) scope.workflowId = query.workflowId;
        if (query.tag) scope.tags = [query.tag];
        return { budgets: await gateway().budgetStatus(scope) };
      },
    }),
    route({
      method: 'PUT',
      path: '/api/gateway/budgets/:budgetId',
      scope: 'admin',
      tag: 'gateway',
      summary: "Change a budget's caps at run time",
      body: SetBudgetBody,
      response: BudgetsResponse,
      handler: async ({ params, body }) => {
        const found = gateway();
        found.setBudget(params.budgetId!, body);
        return { budgets: (await found.budgetStatus()).filter((line) => line.budget === params.budgetId) };
      },
    }),
    route({
      method: 'GET',
      path: '/api/gateway/report',
      scope: 'read',
      tag: 'gateway',
      summary: "A UTC day's usage in all and per agent, user, workflow and model",
      query: ReportQuery,
      handler: ({ query }) => gateway().report(query.day !== undefined ? { day: query.day } : {}),
    }),
    route({
      method: 'GET',
      path: '/api/gateway/ledger',
      scope: 'read',
      tag: 'gateway',
      summary: 'Ledger records, newest first, filtered and paged',
      query: LedgerQuery,
      handler: async ({ query }) => {
        const { limit, offset, ...filter } = query;
        const records = await gateway().ledger.query(
          Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined)),
        );
        const end = records.length - offset;
        return {
          records: records.slice(Math.max(0, end - limit), Math.max(0, end)).reverse(),
          total: records.length,
          limit,
          offset,
        };
      },
    }),
    route({
      method: 'GET',
      path: '/api/gateway/degradation',
      scope: 'read',
      tag: 'gateway',
      summary: 'Recent degradations (smaller tier, template, plan-only, refusal) and the budgets running low',
      handler: async () => {
        const budgets = await gateway().budgetStatus();
        return {
          recent: context.recent.list('degraded').map(plainEvent),
          lowBudgets: budgets.filter((line) => line.remaining <= line.limit * LOW_BUDGET_RATIO),
        };
      },
    }),
  ];
}
