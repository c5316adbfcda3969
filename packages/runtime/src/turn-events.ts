/**
 * The events and log line of a turn's start and of its success: `message.received`,
 * `turn.started`, `turn.completed`. Each is built only when someone listens (`events.has`);
 * `turn.failed` is emitted with the failure policy, in `agent-runtime.ts`.
 */
import type { Delivery } from '@agentrix/core';
import type { AgentRuntimeDependencies } from './agent-runtime-dependencies.js';
import type { TurnResult } from './run-turn.js';

/** Logs a redelivery and emits `message.received` and `turn.started`. */
export function announceTurn(
  deps: AgentRuntimeDependencies,
  agentId: string,
  delivery: Delivery,
  threadId: string,
  turnId: string,
): void {
  const { events } = deps;
  const { envelope, attempt } = delivery;
  if (attempt > 1) {
    const fields: Record<string, unknown> = { agentId, messageId: envelope.id, attempt };
    if (delivery.lastError) fields.code = delivery.lastError.code;
    deps.logger.info(fields, 'message redelivered');
  }
  if (events.has('message.received')) events.emit('message.received', { agentId, envelope, attempt });
  if (events.has('turn.started')) {
    events.emit('turn.started', { agentId, threadId, turnId, messageId: envelope.id, attempt });
  }
}

/** Emits `turn.completed` for a turn stored and acked. */
export function emitTurnCompleted(
  deps: AgentRuntimeDependencies,
  agentId: string,
  delivery: Delivery,
  threadId: string,
  turnId: string,
  started: number,
  result: TurnResult,
): void {
  const { events } = deps;
  if (events.has('turn.completed')) {
    events.emit('turn.completed', {
      agentId,
      threadId,
      turnId,
      messageId: delivery.envelope.id,
      steps: result.steps,
      usage: result.usage,
      durationMs: deps.clock.now() - started,
      stopReason: result.stopReason,
      reply: result.reply,
    });
  }
}
