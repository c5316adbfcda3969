import type { BudgetReserveLine } from '@agentrix/core';
import { AgentrixError, type CallScope } from '@agentrix/core';
import type { BudgetInput } from './gateway-options.js';
import { usdToNano } from './price-table.js';
import { describeScope, scopeKey } from './scopes.js';

/** A configured budget, with caps in store units (nano-dollars, tokens). */
export interface PreparedBudget {
  id: string;
  scope: BudgetInput['scope'];
  period: 'day' | 'month' | 'total';
  usdNano: number | undefined;
  tokens: number | undefined;
}

export function prepareBudgets(budgets: readonly BudgetInput[]): PreparedBudget[] {
  const seen = new Set<string>();
  return budgets.map((budget) => {
    const id = budget.id ?? `${describeScope(budget.scope)}:${budget.period}`;
    if (seen.has(id)) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `Two budgets are named "${id}"; give them distinct ids (the \`id\` field)`,
      );
    }
    seen.add(id);
    return {
      id,
      scope: budget.scope,
      period: budget.period,
      usdNano: budget.usd === undefined ? undefined : usdToNano(budget.usd),
      tokens: budget.tokens,
    };
  });
}

/** One line of a reservation, with what it means. */
export interface Line extends BudgetReserveLine {
  budget: string;
  unit: 'usd' | 'tokens';
  /** When the budget's period ends and a new one starts (none for `total`), ms since the epoch. */
  resetsAt?: number;
}

/** The budgets a call is under, with their store keys for the current period. */
export interface BudgetEntry {
  budget: PreparedBudget;
  /** The budget id, with the scope value for `'*'` budgets (`agent:*:day[planner]`). */
  id: string;
  usdKey: string;
  tokensKey: string;
  expiresAt: number | undefined;
  resetsAt: number | undefined;
}

const DAY = 86_400_000;

/** The current period's key stamp and when it ends (none for `total`). */
function period(budget: PreparedBudget, now: number): { stamp: string; resetsAt: number | undefined } {
  const date = new Date(now);
  if (budget.period === 'day') {
    const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
    return { stamp: date.toISOString().slice(0, 10), resetsAt: start + DAY };
  }
  if (budget.period === 'month') {
    return {
      stamp: date.toISOString().slice(0, 7),
      resetsAt: Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1),
    };
  }
  return { stamp: 'all', resetsAt: undefined };
}

/** The budgets a call of `scope` is under, with their store keys for the period of `now`. */
export function budgetKeys(budgets: readonly PreparedBudget[], scope: CallScope, now: number): BudgetEntry[] {
  const out: BudgetEntry[] = [];
  for (const budget of budgets) {
    const part = scopeKey(budget.scope, scope);
    if (part === undefined) continue;
    const id = part === '' ? budget.id : `${budget.id}[${part}]`;
    const { stamp, resetsAt } = period(budget, now);
    // A counter is kept a day past its period: calls in flight at the reset still settle on it.
    const expiresAt = resetsAt === undefined ? undefined : resetsAt + DAY;
    out.push({ budget, id, usdKey: `${id}:usd:${stamp}`, tokensKey: `${id}:tokens:${stamp}`, expiresAt, resetsAt });
  }
  return out;
}

/** The caps of a budget entry: a counter per unit it is capped in (USD first). */
export function capsOf(entry: BudgetEntry): { unit: 'usd' | 'tokens'; key: string; limit: number }[] {
  const caps: { unit: 'usd' | 'tokens'; key: string; limit: number }[] = [];
  if (entry.budget.usdNano !== undefined) caps.push({ unit: 'usd', key: entry.usdKey, limit: entry.budget.usdNano });
  if (entry.budget.tokens !== undefined)
    caps.push({ unit: 'tokens', key: entry.tokensKey, limit: entry.budget.tokens });
  return caps;
}

/**
 * The reservation lines of a call that may cost up to `worst` (nano-dollars and tokens): one per
 * cap of every budget its scope is under. Empty when it is under none.
 */
export function budgetLines(
  budgets: readonly PreparedBudget[],
  scope: CallScope,
  now: number,
  worst: { usdNano: number; tokens: number },
): Line[] {
  const lines: Line[] = [];
  for (const entry of budgetKeys(budgets, scope, now)) {
    const expiry = {
      ...(entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt }),
      ...(entry.resetsAt === undefined ? {} : { resetsAt: entry.resetsAt }),
    };
    for (const { unit, key, limit } of capsOf(entry)) {
      const amount = unit === 'usd' ? worst.usdNano : worst.tokens;
      lines.push({ key, limit, amount, budget: entry.id, unit, ...expiry });
    }
  }
  return lines;
}
