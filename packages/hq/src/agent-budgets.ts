import { AgentrixError } from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';
import type { HqBudgetLine, HqGateway } from './hq-options.js';

/**
 * An agent's own caps are gateway budgets with scope `{ agentId }`: the lines of
 * `budgetStatus({ agentId })` that are neither global nor a `'*'` budget's share (`id[agentId]`).
 */
async function ownBudgets(gateway: HqGateway, agentId: string): Promise<HqBudgetLine[]> {
  const global = new Set((await gateway.budgetStatus({})).map((line) => line.budget));
  return (await gateway.budgetStatus({ agentId })).filter(
    (line) => !global.has(line.budget) && !line.budget.endsWith(`[${agentId}]`),
  );
}

/** Each agent's own USD per day cap (agents without one are left out). */
export async function agentCaps(gateway: HqGateway, agentIds: readonly string[]): Promise<Record<string, number>> {
  const caps: Record<string, number> = {};
  for (const agentId of agentIds) {
    const daily = (await ownBudgets(gateway, agentId)).find((line) => line.unit === 'usd' && line.period === 'day');
    if (daily) caps[agentId] = daily.limit;
  }
  return caps;
}

/** Sets the USD cap of the agent's own daily gateway budget; `NOT_FOUND` when it has none. */
export async function setAgentCap(gateway: HqGateway, agentId: string, usdPerDay: number): Promise<void> {
  if (!Number.isFinite(usdPerDay) || usdPerDay <= 0) {
    throw invalidArgument(`The budget of agent "${agentId}" must be a positive number of USD, got ${usdPerDay}`);
  }
  const daily = (await ownBudgets(gateway, agentId)).find((line) => line.unit === 'usd' && line.period === 'day');
  if (!daily) {
    throw new AgentrixError(
      'NOT_FOUND',
      `Agent "${agentId}" has no budget of its own in the gateway: configure one like { id: '${agentId}', scope: { agentId: '${agentId}' }, period: 'day', usd: 2 }`,
      { details: { agentId } },
    );
  }
  gateway.setBudget(daily.budget, { usd: usdPerDay });
}

/** The agents with room left in every gateway budget they are under (global, `'*'` and their own). */
export async function withinBudgets(gateway: HqGateway, agentIds: readonly string[]): Promise<string[]> {
  const within: string[] = [];
  for (const agentId of agentIds) {
    const lines = await gateway.budgetStatus({ agentId });
    if (lines.every((line) => line.remaining > 0)) within.push(agentId);
  }
  return within;
}
