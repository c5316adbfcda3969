import type { BudgetStore } from '@agentrix/core';
import { AgentrixError, type CallScope } from '@agentrix/core';
import { z } from 'zod';
import { budgetKeys, capsOf, type PreparedBudget } from './budgets.js';
import { nanoToUsd, usdToNano } from './price-table.js';

/** The state of one budget for a scope, in its unit. */
export interface BudgetStatus {
  /** The budget id, with the scope value for `'*'` budgets (`agent:*:day[planner]`). */
  budget: string;
  period: 'day' | 'month' | 'total';
  unit: 'usd' | 'tokens';
  limit: number;
  spent: number;
  /** Held by calls in flight. */
  reserved: number;
  remaining: number;
}

/** Every budget a call of `scope` is under, for the period of `now`, as the store counts it. */
export async function readBudgets(
  store: BudgetStore,
  budgets: readonly PreparedBudget[],
  scope: CallScope,
  now: number,
): Promise<BudgetStatus[]> {
  const wanted = budgetKeys(budgets, scope, now).flatMap((entry) =>
    capsOf(entry).map((cap) => ({ budget: entry.id, period: entry.budget.period, ...cap })),
  );
  const counters = await store.read(wanted.map((line) => line.key));
  return wanted.map((line, index) => {
    const counter = counters[index]!;
    const convert = (value: number) => (line.unit === 'usd' ? nanoToUsd(value) : value);
    return {
      budget: line.budget,
      period: line.period,
      unit: line.unit,
      limit: convert(line.limit),
      spent: convert(counter.spent),
      reserved: convert(counter.reserved),
      remaining: convert(Math.max(0, line.limit - counter.spent - counter.reserved)),
    };
  });
}

const BudgetCapsSchema = z
  .strictObject({ usd: z.number().finite().positive().optional(), tokens: z.number().int().positive().optional() })
  .refine((caps) => caps.usd !== undefined || caps.tokens !== undefined, { message: 'give usd, tokens or both' });

/** `gateway.setBudget`: new caps for a configured budget; `NOT_FOUND` / `INVALID_ARGUMENT` as documented there. */
export function setBudgetCaps(
  budgets: readonly PreparedBudget[],
  id: string,
  caps: { usd?: number; tokens?: number },
): void {
  const budget = budgets.find((candidate) => candidate.id === id);
  if (!budget) {
    throw new AgentrixError(
      'NOT_FOUND',
      `No budget "${id}" in this gateway; known: ${budgets.map((candidate) => candidate.id).join(', ') || 'none'}`,
      { details: { budget: id } },
    );
  }
  const parsed = BudgetCapsSchema.safeParse(caps);
  if (!parsed.success) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `Budget "${id}" caps must be { usd?: positive number, tokens?: positive integer } with at least one: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'caps'}: ${issue.message}`).join('; ')}`,
    );
  }
  if (parsed.data.usd !== undefined) budget.usdNano = usdToNano(parsed.data.usd);
  if (parsed.data.tokens !== undefined) budget.tokens = parsed.data.tokens;
}
