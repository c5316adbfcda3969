import { AgentrixError, type ChatRequest, type ChatStreamPart, type Usage } from '@agentrix/core';
import type { BudgetReserveLine, BudgetReserveResult, BudgetSettleLine } from './budget-store.js';
import { chargedUsage, type GatewayCall, type GatewayContext, isZeroUsage, type Layer } from './call.js';
import type { BudgetLineEvent, DegradationReason } from './gateway-events.js';
import type { BudgetInput } from './gateway-options.js';
import { costNano, type ModelInfo, nanoToUsd, usdToNano } from './price-table.js';
import { type Hold, reserve, settle } from './reservations.js';
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

/** The budgets a call is under, with their store keys for the current period. */
export function budgetKeys(
  budgets: readonly PreparedBudget[],
  scope: GatewayCall['scope'],
  now: number,
): {
  budget: PreparedBudget;
  id: string;
  usdKey: string;
  tokensKey: string;
  expiresAt: number | undefined;
  resetsAt: number | undefined;
}[] {
  const out = [];
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

/**
 * Output tokens reserved and sent: the request's `maxTokens` (at most the model's cap), else the
 * model's output allowance (`defaultOutputTokens` of the model, else of the gateway, at most its cap).
 */
export function outputCap(request: ChatRequest, info: ModelInfo, defaultOutputTokens: number): number {
  const wanted = request.maxTokens ?? info.defaultOutputTokens ?? defaultOutputTokens;
  return Math.min(wanted, info.maxOutputTokens);
}

/**
 * The budget layer: reserves the worst case of a call on every budget it is under before it
 * runs, steps down the degradation ladder when that does not fit (or would leave a budget low),
 * and settles to the real usage after it, whatever happens (answer, error, abandoned stream).
 * An attempt the retry layer retries is settled on its own and the next one reserved again
 * (`call.chargeAttempt`), so retries stay under the cap too.
 */
export function budgetLayer(context: GatewayContext, budgets: readonly PreparedBudget[]): Layer {
  const { events, config } = context;
  const margin = 1 + config.reservationMargin;

  const plan = (call: GatewayCall, info: ModelInfo, maxOutput: number, now: number): Line[] => {
    const inputTokens = Math.ceil(call.promptTokens * margin);
    const usdAmount = costNano(info, { inputTokens, outputTokens: maxOutput });
    const lines: Line[] = [];
    for (const entry of budgetKeys(budgets, call.scope, now)) {
      const expiry = {
        ...(entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt }),
        ...(entry.resetsAt === undefined ? {} : { resetsAt: entry.resetsAt }),
      };
      if (entry.budget.usdNano !== undefined) {
        lines.push({
          key: entry.usdKey,
          limit: entry.budget.usdNano,
          amount: usdAmount,
          budget: entry.id,
          unit: 'usd',
          ...expiry,
        });
      }
      if (entry.budget.tokens !== undefined) {
        lines.push({
          key: entry.tokensKey,
          limit: entry.budget.tokens,
          amount: inputTokens + maxOutput,
          budget: entry.id,
          unit: 'tokens',
          ...expiry,
        });
      }
    }
    return lines;
  };

  const lowLine = (lines: Line[], result: BudgetReserveResult): Line | undefined => {
    if (!result.ok || config.lowBudgetRatio === 0) return undefined;
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index]!;
      const counter = result.counters[index]!;
      if (line.limit - counter.spent - counter.reserved < line.limit * config.lowBudgetRatio) return line;
    }
    return undefined;
  };

  const degraded = (
    call: GatewayCall,
    step: 'smaller-tier' | 'template' | 'plan-only' | 'refused',
    reason: DegradationReason,
    from: string,
    to: string | undefined,
    budget: string | undefined,
  ) => {
    const event = {
      callId: call.id,
      scope: call.scope,
      step,
      reason,
      from,
      ...(to === undefined ? {} : { to }),
      ...(budget === undefined ? {} : { budget }),
    };
    if (step !== 'refused') context.logger?.info(event, `gateway: degraded a call (${step}, ${reason})`);
    if (events.has('gateway.degraded')) events.emit('gateway.degraded', event);
  };

  const refused = (call: GatewayCall, failure: Failure, cause?: AgentrixError): AgentrixError => {
    const error = budgetExceeded(failure, cause);
    context.logger?.warn(
      { callId: call.id, budget: failure.line.budget, scope: call.scope, code: error.code, requested: call.requested },
      'gateway: a budget refused a call',
    );
    return error;
  };

  const reserved = (call: GatewayCall, lines: Line[]) => {
    if (events.has('budget.reserved')) {
      events.emit('budget.reserved', { callId: call.id, scope: call.scope, model: call.model, lines: toEvents(lines) });
    }
  };

  /** Settles a hold to `usage` on the call's current model, with its events. */
  const settleTo = async (call: GatewayCall, hold: Hold<Line>, usage: Usage) => {
    const actualUsd = costNano(call.info, usage);
    const actualTokens = usage.inputTokens + usage.outputTokens;
    await settle(
      context,
      call.id,
      hold,
      hold.lines.map((line) => settleLine(line, line.unit === 'usd' ? actualUsd : actualTokens)),
    );
    if (actualUsd === 0 && actualTokens === 0) {
      if (events.has('budget.released')) {
        events.emit('budget.released', {
          callId: call.id,
          scope: call.scope,
          model: call.model,
          reason: call.cacheHit ? 'cache-hit' : 'error',
        });
      }
    } else if (events.has('budget.settled')) {
      events.emit('budget.settled', {
        callId: call.id,
        scope: call.scope,
        model: call.model,
        lines: hold.lines.map((line) => ({
          budget: line.budget,
          unit: line.unit,
          amount: line.unit === 'usd' ? nanoToUsd(actualUsd) : actualTokens,
        })),
        estimated: usage.estimated === true,
      });
    }
  };

  return async function* budget(call, next) {
    const now = context.clock.now();
    if (budgetKeys(budgets, call.scope, now).length === 0) {
      yield* next(call);
      return;
    }
    const ladder = call.tier === undefined ? [undefined] : call.ladder;
    let held: Hold<Line> | undefined;
    let failure: Failure | undefined;
    let reason: DegradationReason = 'budget-exhausted';
    for (let index = 0; index < ladder.length; index++) {
      const tier = ladder[index];
      const model = tier === undefined ? call.model : context.tiers[tier]!;
      const info = context.models[model]!;
      const maxOutput = outputCap(call.request, info, config.defaultOutputTokens);
      const lines = plan(call, info, maxOutput, now);
      const { hold, result } = await reserve(context, call.id, lines);
      const smaller = ladder[index + 1];
      if (result.ok) {
        const low = smaller === undefined ? undefined : lowLine(lines, result);
        if (low) {
          await settle(context, call.id, hold, []);
          reason = 'budget-low';
          degraded(call, 'smaller-tier', 'budget-low', tier!, smaller, low.budget);
          continue;
        }
        if (index > 0) {
          call.degradedFrom = call.requested;
          call.degradation = 'smaller-tier';
          call.modelChanged = true;
        }
        call.tier = tier;
        call.model = model;
        call.info = info;
        call.maxOutputTokens = maxOutput;
        held = hold;
        break;
      }
      failure = failureOf(lines, result);
      reason = 'budget-exhausted';
      if (smaller !== undefined) {
        degraded(call, 'smaller-tier', 'budget-exhausted', tier!, smaller, failure.line.budget);
      }
    }

    if (!held && context.templateAnswer) {
      const text = await context.templateAnswer(call.request, { reason, scope: call.scope });
      if (text !== undefined) {
        call.degradedFrom = call.requested;
        call.degradation = 'template';
        degraded(call, 'template', reason, call.requested, undefined, failure?.line.budget);
        yield* templateAnswer(call, text);
        return;
      }
    }

    if (!held && config.degradation.planOnly) {
      const tier = ladder[ladder.length - 1];
      const model = tier === undefined ? call.model : context.tiers[tier]!;
      const info = context.models[model]!;
      const maxOutput = Math.min(
        config.degradation.planOnlyMaxTokens,
        outputCap(call.request, info, config.defaultOutputTokens),
      );
      const planRequest = planOnlyRequest(call.request, config.degradation.planOnlyInstruction);
      const lines = plan(call, info, maxOutput, now);
      const { hold, result } = await reserve(context, call.id, lines);
      if (result.ok) {
        call.degradedFrom = call.requested;
        call.degradation = 'plan-only';
        call.modelChanged = true;
        call.tier = tier;
        call.model = model;
        call.info = info;
        call.maxOutputTokens = maxOutput;
        call.request = planRequest;
        held = hold;
        degraded(call, 'plan-only', reason, call.requested, tier ?? model, failure?.line.budget);
      } else {
        failure = failureOf(lines, result);
      }
    }

    if (!held) {
      degraded(call, 'refused', reason, call.requested, undefined, failure?.line.budget);
      call.degradedFrom = call.requested;
      call.degradation = 'refused';
      throw refused(call, failure!);
    }

    reserved(call, held.lines);
    call.chargeAttempt = async (usage, cause) => {
      if (isZeroUsage(usage) || !held) return;
      const done = held;
      held = undefined;
      await settleTo(call, done, usage);
      const lines = plan(call, call.info, call.maxOutputTokens, now);
      const { hold, result } = await reserve(context, call.id, lines);
      if (!result.ok) throw refused(call, failureOf(lines, result), cause);
      held = hold;
      reserved(call, lines);
    };
    try {
      yield* next(call);
    } finally {
      delete call.chargeAttempt;
      if (held) await settleTo(call, held, chargedUsage(call));
    }
  };
}

interface Failure {
  line: Line;
  spent: number;
  reserved: number;
}

/** The line a refused reservation did not fit, with its counter as the store saw it. */
export function failureOf(lines: readonly Line[], result: Extract<BudgetReserveResult, { ok: false }>): Failure {
  const line = lines.find((candidate) => candidate.key === result.key)!;
  return { line, spent: result.counter.spent, reserved: result.counter.reserved };
}

export function settleLine(line: Line, actual: number): BudgetSettleLine {
  const out: BudgetSettleLine = { key: line.key, actual };
  if (line.expiresAt !== undefined) out.expiresAt = line.expiresAt;
  return out;
}

export function toEvents(lines: readonly Line[]): BudgetLineEvent[] {
  return lines.map((line) => ({
    budget: line.budget,
    unit: line.unit,
    amount: line.unit === 'usd' ? nanoToUsd(line.amount) : line.amount,
  }));
}

export function budgetExceeded(failure: Failure, cause?: AgentrixError): AgentrixError {
  const { line } = failure;
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
        limit: line.unit === 'usd' ? nanoToUsd(line.limit) : line.limit,
        spent: line.unit === 'usd' ? nanoToUsd(failure.spent) : failure.spent,
        reserved: line.unit === 'usd' ? nanoToUsd(failure.reserved) : failure.reserved,
        needed: line.unit === 'usd' ? nanoToUsd(line.amount) : line.amount,
        // The runtime's budget pause tries again then (a new period has a new counter).
        ...(line.resetsAt === undefined ? {} : { resetsAt: line.resetsAt }),
      },
    },
  );
}

function planOnlyRequest(request: ChatRequest, instruction: string): ChatRequest {
  const { tools: _tools, toolChoice: _toolChoice, ...rest } = request;
  return { ...rest, messages: [...request.messages, { role: 'system', content: instruction }] };
}

async function* templateAnswer(call: GatewayCall, text: string): AsyncGenerator<ChatStreamPart, void, undefined> {
  const response = {
    message: { role: 'assistant' as const, content: text },
    finishReason: 'stop' as const,
    usage: { inputTokens: 0, outputTokens: 0 },
    model: 'template',
  };
  call.response = response;
  if (call.stream && text !== '') yield { type: 'text-delta', text };
  yield { type: 'finish', response };
}
