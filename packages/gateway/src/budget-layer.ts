import type { AgentrixError, BudgetReserveResult, ChatStreamPart, Usage } from '@agentrix/core';
import { emitReserved, type Failure, failureOf, refusal, settleHold } from './budget-charges.js';
import { budgetKeys, budgetLines, type Line, type PreparedBudget } from './budgets.js';
import {
  chargedUsage,
  type EmbeddingLayer,
  type GatewayCall,
  type GatewayContext,
  type GatewayMiddleware,
  isZeroUsage,
  type Layer,
  type Next,
} from './call.js';
import { markDegraded, planOnlyRequest, reportDegradation, switchModel, templateAnswer } from './degradation.js';
import type { DegradationReason } from './gateway-events.js';
import { costNano, embeddingCostNano, type ModelInfo } from './price-table.js';
import { type Hold, reserve, settle } from './reservations.js';
import { modelChoice } from './route.js';

/**
 * The budget middleware: reserves the worst case of a call on every budget it is under before it
 * runs, and settles to the real usage after it, whatever happens (answer, error, abandoned
 * stream). A chat call steps down the degradation ladder when its reservation does not fit (or
 * would leave a budget low); an embedding call that does not fit is refused at once.
 */
export function budgetMiddleware(context: GatewayContext, budgets: readonly PreparedBudget[]): GatewayMiddleware {
  return { chat: chatBudget(context, budgets), embed: embeddingBudget(context, budgets) };
}

/** Worst case of an embedding call: its locally counted input tokens plus the reservation margin. */
function embeddingBudget(context: GatewayContext, budgets: readonly PreparedBudget[]): EmbeddingLayer {
  const margin = 1 + context.config.reservationMargin;
  return async (call, next) => {
    const tokens = Math.ceil(call.countedTokens * margin);
    const worst = { usdNano: embeddingCostNano(call.info, tokens), tokens };
    const lines = budgetLines(budgets, call.scope, call.startedAt, worst);
    if (lines.length === 0) return next(call);
    const { hold, result } = await reserve(context, call.id, lines);
    if (!result.ok) throw refusal(context, call, call.model, failureOf(lines, result), 'an embedding call');
    emitReserved(context, call, lines);
    try {
      return await next(call);
    } finally {
      const { inputTokens, estimated } = call.usage;
      const charge = { usdNano: embeddingCostNano(call.info, inputTokens), tokens: inputTokens, estimated };
      await settleHold(context, call, hold, charge, 'error');
    }
  };
}

/** Where a chat call stands after the degradation ladder. */
interface Placement {
  held: Hold<Line> | undefined;
  /** The last reservation refused, if any. */
  failure: Failure | undefined;
  reason: DegradationReason;
}

/** What the steps of one chat call's budgeting share. */
interface Budgeting {
  context: GatewayContext;
  budgets: readonly PreparedBudget[];
  /** When the call started: its budgets' periods. */
  now: number;
}

/**
 * The chat side. An attempt the retry layer retries is settled on its own and the next one
 * reserved again (`call.chargeAttempt`), so retries stay under the cap too.
 */
function chatBudget(context: GatewayContext, budgets: readonly PreparedBudget[]): Layer {
  return async function* budget(call, next) {
    const run: Budgeting = { context, budgets, now: context.clock.now() };
    if (budgetKeys(budgets, call.scope, run.now).length === 0) {
      yield* next(call);
      return;
    }
    const placement = await walkLadder(run, call);
    if (!placement.held) {
      const text = await templateText(context, call, placement);
      if (text !== undefined) {
        yield* templateAnswer(call, text);
        return;
      }
      if (context.config.degradation.planOnly) placement.held = await planOnly(run, call, placement);
    }
    if (!placement.held) throw refuse(context, call, placement);
    yield* runHeld(run, call, placement.held, next);
  };
}

/** The worst case of the call on `info` with `maxOutput`: its prompt plus the margin, and the whole output cap. */
function plan(run: Budgeting, call: GatewayCall, info: ModelInfo, maxOutput: number): Line[] {
  const inputTokens = Math.ceil(call.promptTokens * (1 + run.context.config.reservationMargin));
  return budgetLines(run.budgets, call.scope, run.now, {
    usdNano: costNano(info, { inputTokens, outputTokens: maxOutput }),
    tokens: inputTokens + maxOutput,
  });
}

/** The first line a granted reservation leaves under `lowBudgetRatio` of its cap. */
function lowLine(context: GatewayContext, lines: Line[], result: BudgetReserveResult): Line | undefined {
  const ratio = context.config.lowBudgetRatio;
  if (!result.ok || ratio === 0) return undefined;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const counter = result.counters[index]!;
    if (line.limit - counter.spent - counter.reserved < line.limit * ratio) return line;
  }
  return undefined;
}

/** Reserves on the requested tier, then each smaller one, until one fits without leaving a budget low. */
async function walkLadder(run: Budgeting, call: GatewayCall): Promise<Placement> {
  const { context } = run;
  const ladder = call.tier === undefined ? [undefined] : call.ladder;
  let failure: Failure | undefined;
  let reason: DegradationReason = 'budget-exhausted';
  for (let index = 0; index < ladder.length; index++) {
    const choice = modelChoice(context, call, ladder[index]);
    const lines = plan(run, call, choice.info, choice.maxOutputTokens);
    const { hold, result } = await reserve(context, call.id, lines);
    const smaller = ladder[index + 1];
    if (result.ok) {
      const low = smaller === undefined ? undefined : lowLine(context, lines, result);
      if (!low) {
        if (index > 0) switchModel(call, choice, 'smaller-tier');
        return { held: hold, failure, reason };
      }
      await settle(context, call.id, hold, []);
      reason = 'budget-low';
      reportDegradation(context, call, 'smaller-tier', reason, choice.tier!, smaller, low.budget);
      continue;
    }
    failure = failureOf(lines, result);
    reason = 'budget-exhausted';
    if (smaller !== undefined) {
      reportDegradation(context, call, 'smaller-tier', reason, choice.tier!, smaller, failure.line.budget);
    }
  }
  return { held: undefined, failure, reason };
}

/** The host's template answer (the "retrieval + template" step), when it gives one. */
async function templateText(
  context: GatewayContext,
  call: GatewayCall,
  placement: Placement,
): Promise<string | undefined> {
  if (!context.templateAnswer) return undefined;
  const text = await context.templateAnswer(call.request, { reason: placement.reason, scope: call.scope });
  if (text === undefined) return undefined;
  markDegraded(call, 'template');
  const budget = placement.failure?.line.budget;
  reportDegradation(context, call, 'template', placement.reason, call.requested, undefined, budget);
  return text;
}

/** The last step: the smallest tier, asked for a plan only (no tools, a small output cap). */
async function planOnly(run: Budgeting, call: GatewayCall, placement: Placement): Promise<Hold<Line> | undefined> {
  const { context } = run;
  const { degradation } = context.config;
  const ladder = call.tier === undefined ? [undefined] : call.ladder;
  const tier = ladder[ladder.length - 1];
  const smallest = modelChoice(context, call, tier);
  const choice = { ...smallest, maxOutputTokens: Math.min(degradation.planOnlyMaxTokens, smallest.maxOutputTokens) };
  const lines = plan(run, call, choice.info, choice.maxOutputTokens);
  const { hold, result } = await reserve(context, call.id, lines);
  if (!result.ok) {
    placement.failure = failureOf(lines, result);
    return undefined;
  }
  const request = planOnlyRequest(call.request, degradation.planOnlyInstruction);
  switchModel(call, choice, 'plan-only');
  call.request = request;
  const budget = placement.failure?.line.budget;
  reportDegradation(context, call, 'plan-only', placement.reason, call.requested, tier ?? choice.model, budget);
  return hold;
}

function refuse(context: GatewayContext, call: GatewayCall, placement: Placement): AgentrixError {
  const budget = placement.failure?.line.budget;
  reportDegradation(context, call, 'refused', placement.reason, call.requested, undefined, budget);
  markDegraded(call, 'refused');
  return refusal(context, call, call.requested, placement.failure!, 'a call');
}

/** Runs the call under its hold, charging each retried attempt on its own, and settles at the end. */
async function* runHeld(
  run: Budgeting,
  call: GatewayCall,
  first: Hold<Line>,
  next: Next,
): AsyncGenerator<ChatStreamPart, void, undefined> {
  const { context } = run;
  let held: Hold<Line> | undefined = first;
  emitReserved(context, call, first.lines);
  call.chargeAttempt = async (usage, cause) => {
    if (isZeroUsage(usage) || !held) return;
    const done = held;
    held = undefined;
    await settleTo(context, call, done, usage);
    const lines = plan(run, call, call.info, call.maxOutputTokens);
    const { hold, result } = await reserve(context, call.id, lines);
    if (!result.ok) throw refusal(context, call, call.requested, failureOf(lines, result), 'a call', cause);
    held = hold;
    emitReserved(context, call, lines);
  };
  try {
    yield* next(call);
  } finally {
    delete call.chargeAttempt;
    if (held) await settleTo(context, call, held, chargedUsage(call));
  }
}

/** Settles a hold to `usage` on the call's current model. */
function settleTo(context: GatewayContext, call: GatewayCall, hold: Hold<Line>, usage: Usage): Promise<void> {
  const charge = {
    usdNano: costNano(call.info, usage),
    tokens: usage.inputTokens + usage.outputTokens,
    estimated: usage.estimated === true,
  };
  return settleHold(context, call, hold, charge, call.cacheHit ? 'cache-hit' : 'error');
}
