import { AgentrixError, type ChatRequest } from '@agentrix/core';
import type { GatewayCall, GatewayContext } from './call.js';
import type { ModelInfo } from './price-table.js';
import { countPromptTokens } from './tokens.js';

/** A model a call can run on, with the output cap it gets there. */
export interface ModelChoice {
  /** The tier, when the model came from one. */
  tier: string | undefined;
  model: string;
  info: ModelInfo;
  maxOutputTokens: number;
}

/**
 * Output tokens reserved and sent: the request's `maxTokens` (at most the model's cap), else the
 * model's output allowance (`defaultOutputTokens` of the model, else of the gateway, at most its cap).
 */
export function outputCap(request: ChatRequest, info: ModelInfo, defaultOutputTokens: number): number {
  const wanted = request.maxTokens ?? info.defaultOutputTokens ?? defaultOutputTokens;
  return Math.min(wanted, info.maxOutputTokens);
}

/** The model of `tier` (the call's own model for none), with the output cap the call's request gets on it. */
export function modelChoice(context: GatewayContext, call: GatewayCall, tier: string | undefined): ModelChoice {
  const model = tier === undefined ? call.model : context.tiers[tier]!;
  const info = context.models[model]!;
  return { tier, model, info, maxOutputTokens: outputCap(call.request, info, context.config.defaultOutputTokens) };
}

/**
 * Starts a call: the first tier rule that answers, else the request's model or tier, else the
 * default tier, names what it runs on. `MODEL_NOT_FOUND` for a model the gateway cannot serve,
 * `INVALID_ARGUMENT` for an unknown tier.
 */
export function routeCall(context: GatewayContext, request: ChatRequest, stream: boolean): GatewayCall {
  const promptTokens = countPromptTokens(request);
  const requested = requestedTarget(context, request, promptTokens);
  const { tier, model } = resolveTarget(context, request, requested);
  const info = context.models[model]!;
  return {
    id: context.generateId(),
    startedAt: context.clock.now(),
    stream,
    scope: request.scope ?? {},
    request,
    requested,
    tier,
    ladder: tier === undefined ? [] : context.tierOrder.slice(context.tierOrder.indexOf(tier)),
    model,
    info,
    promptTokens,
    maxOutputTokens: outputCap(request, info, context.config.defaultOutputTokens),
    cacheHit: false,
    outputText: '',
    response: undefined,
    sent: false,
  };
}

function requestedTarget(context: GatewayContext, request: ChatRequest, promptTokens: number): string {
  for (const rule of context.rules) {
    const requested = rule(request, { promptTokens });
    if (requested !== undefined) return requested;
  }
  return request.model ?? request.tier ?? context.defaultTier;
}

function resolveTarget(
  context: GatewayContext,
  request: ChatRequest,
  requested: string,
): { tier: string | undefined; model: string } {
  const { tiers, models } = context;
  if (tiers[requested]) return { tier: requested, model: tiers[requested]! };
  if (models[requested]) {
    if (!context.providers[models[requested]!.provider ?? 'default']) {
      throw new AgentrixError('MODEL_NOT_FOUND', `Model "${requested}" has no provider in this gateway`);
    }
    return { tier: undefined, model: requested };
  }
  if (request.model === requested) {
    throw new AgentrixError(
      'MODEL_NOT_FOUND',
      `Model "${requested}" is not in the gateway's price table; add it to \`models\` (known: ${Object.keys(models).join(', ')})`,
    );
  }
  throw new AgentrixError(
    'INVALID_ARGUMENT',
    `Tier "${requested}" is not configured; known tiers: ${context.tierOrder.join(', ')}`,
  );
}
