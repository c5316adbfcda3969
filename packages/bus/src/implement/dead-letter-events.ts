import type { AgentrixEvents, MessageEnvelope, SerializedError } from '@agentrix/core';

/** Emits `message.dead-lettered` when someone listens (every bus, the same payload). */
export function emitDeadLettered(
  events: AgentrixEvents | undefined,
  inbox: string,
  envelope: MessageEnvelope,
  attempts: number,
  error: SerializedError | undefined,
): void {
  if (events === undefined || !events.has('message.dead-lettered')) return;
  events.emit('message.dead-lettered', { inbox, envelope, attempts, ...(error === undefined ? {} : { error }) });
}
