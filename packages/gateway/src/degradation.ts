import type { ChatRequest, ChatStreamPart } from '@agentrix/core';
import type { GatewayCall, GatewayContext } from './call.js';
import type { DegradationReason, DegradationStep } from './gateway-events.js';
import type { ModelChoice } from './route.js';

/** Notes on the call that it was degraded (`step`) from what it asked for. */
export function markDegraded(call: GatewayCall, step: DegradationStep): void {
  call.degradedFrom = call.requested;
  call.degradation = step;
}

/** Moves a call to another model (a smaller tier, or the plan-only step): the one place a call switches tier. */
export function switchModel(call: GatewayCall, choice: ModelChoice, step: 'smaller-tier' | 'plan-only'): void {
  call.tier = choice.tier;
  call.model = choice.model;
  call.info = choice.info;
  call.maxOutputTokens = choice.maxOutputTokens;
  call.modelChanged = true;
  markDegraded(call, step);
}

/** Logs a degradation at `info` (a refusal is logged as one where it is thrown) and emits `gateway.degraded`. */
export function reportDegradation(
  context: GatewayContext,
  call: GatewayCall,
  step: DegradationStep,
  reason: DegradationReason,
  from: string,
  to: string | undefined,
  budget?: string,
): void {
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
  if (context.events.has('gateway.degraded')) context.events.emit('gateway.degraded', event);
}

/** The plan-only request: no tools, and an instruction to answer with a plan. */
export function planOnlyRequest(request: ChatRequest, instruction: string): ChatRequest {
  const { tools: _tools, toolChoice: _toolChoice, ...rest } = request;
  return { ...rest, messages: [...request.messages, { role: 'system', content: instruction }] };
}

/** Answers a call with the host's template text, as a stream when it was one. */
export async function* templateAnswer(
  call: GatewayCall,
  text: string,
): AsyncGenerator<ChatStreamPart, void, undefined> {
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
