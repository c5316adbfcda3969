import type { BudgetReserveResult } from '@agentrix/core';
import { AgentrixError } from '@agentrix/core';
import type { Line } from './budgets.js';
import type { GatewayContext, MeteredCall } from './call.js';
import type { BudgetLineEvent } from './gateway-events.js';
import { nanoToUsd } from './price-table.js';
import { type Hold, settle } from './reservations.js';

/** The line a refused reservation did not fit, with its counter as the store saw it. */
export interface Failure {
  line: Line;
  spent: number;
  reserved: number;
}

export function failureOf(lines: readonly Line[], result: Extract<BudgetReserveResult, { ok: false }>): Failure {
  const line = lines.find((candidate) => candidate.key === result.key)!;
  return { line, spent: result.counter.spent, reserved: result.counter.reserved };
}

export function budgetExceeded(failure: Failure, cause?: AgentrixError): AgentrixError {
  const { line } = failure;
  const inUnit = (value: number) => (line.unit === 'usd' ? nanoToUsd(value) : value);
  const show = (value: number) => (line.unit === 'usd' ? `$${nanoToUsd(value).toFixed(6)}` : `${value} tokens`);
  return new AgentrixError(
    'BUDGET_EXCEEDED',
    `Budget "${line.budget}" cannot cover this call: ${show(failure.spent)} spent and ${show(failure.reserved)} reserved by calls in flight of ${show(line.limit)}, and the call needs up to ${show(line.amount)}. Raise the cap, lower maxTokens or wait for the next period.`,
    {
      retryable: false,
      ...(cause === undefined ? {} : { cause }),
      details: {
        budget: line.budget,
        unit: line.unit,
        limit: inUnit(line.limit),
        spent: inUnit(failure.spent),
        reserved: inUnit(failure.reserved),
        needed: inUnit(line.amount),
        // The runtime's budget pause tries again then (a new period has a new counter).
        ...(line.resetsAt === undefined ? {} : { resetsAt: line.resetsAt }),
      },
    },
  );
}

/** The `BUDGET_EXCEEDED` error for a call a budget refused, logged at `warn`. */
export function refusal(
  context: GatewayContext,
  call: MeteredCall,
  requested: string,
  failure: Failure,
  what: 'a call' | 'an embedding call',
  cause?: AgentrixError,
): AgentrixError {
  const error = budgetExceeded(failure, cause);
  context.logger?.warn(
    { callId: call.id, budget: failure.line.budget, scope: call.scope, code: error.code, requested },
    `gateway: a budget refused ${what}`,
  );
  return error;
}

export function emitReserved(context: GatewayContext, call: MeteredCall, lines: readonly Line[]): void {
  if (context.events.has('budget.reserved')) {
    context.events.emit('budget.reserved', {
      callId: call.id,
      scope: call.scope,
      model: call.model,
      lines: toEvents(lines, (line) => line.amount),
    });
  }
}

/** What a call turned out to cost, in both units, and whether the usage was estimated. */
export interface Charge {
  usdNano: number;
  tokens: number;
  estimated: boolean;
}

/**
 * Settles a hold to what the call cost, with `budget.settled`, or `budget.released` (for
 * `releaseReason`) when it cost nothing. Never throws (see {@link settle}).
 */
export async function settleHold(
  context: GatewayContext,
  call: MeteredCall,
  hold: Hold<Line>,
  charge: Charge,
  releaseReason: 'cache-hit' | 'error',
): Promise<void> {
  const actual = (line: Line) => (line.unit === 'usd' ? charge.usdNano : charge.tokens);
  await settle(
    context,
    call.id,
    hold,
    hold.lines.map((line) => ({
      key: line.key,
      actual: actual(line),
      ...(line.expiresAt === undefined ? {} : { expiresAt: line.expiresAt }),
    })),
  );
  const { events } = context;
  if (charge.usdNano === 0 && charge.tokens === 0) {
    if (events.has('budget.released')) {
      events.emit('budget.released', { callId: call.id, scope: call.scope, model: call.model, reason: releaseReason });
    }
  } else if (events.has('budget.settled')) {
    events.emit('budget.settled', {
      callId: call.id,
      scope: call.scope,
      model: call.model,
      lines: toEvents(hold.lines, actual),
      estimated: charge.estimated,
    });
  }
}

function toEvents(lines: readonly Line[], amount: (line: Line) => number): BudgetLineEvent[] {
  return lines.map((line) => ({
    budget: line.budget,
    unit: line.unit,
    amount: line.unit === 'usd' ? nanoToUsd(amount(line)) : amount(line),
  }));
}
