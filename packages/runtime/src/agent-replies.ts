/**
 * The replies an agent sends its askers: a turn's answer, and the error reply that tells an asker
 * why its message is not (or not yet) answered.
 */
import { type MessageEnvelope, type SerializedError, serializeError } from '@agentrix/core';
import type { AgentRuntimeDependencies, ReplyInput } from './agent-runtime-dependencies.js';
import { replyId } from './turn-failure.js';

/**
 * The turn's answer to its asker, with an id derived from the request: a turn that runs again sends
 * a reply the bus de-duplicates. `now`: the turn's clock reading for the reply (see `deps.reply`).
 */
export function sendReply(
  deps: AgentRuntimeDependencies,
  agentId: string,
  envelope: MessageEnvelope,
  to: string,
  content: string,
  now: number,
): Promise<unknown> | undefined {
  const reply: ReplyInput = {
    id: replyId(envelope.id),
    from: agentId,
    to,
    type: 'reply',
    content,
    inReplyTo: envelope.id,
  };
  if (envelope.correlationId !== undefined) reply.correlationId = envelope.correlationId;
  if (envelope.threadId !== undefined) reply.threadId = envelope.threadId;
  return deps.reply(reply, now);
}

/**
 * Tells the asker (if any) why its message is not answered: an `error` reply carrying the error.
 * `key` makes its id: the message's own id for a final failure (then it takes the place of the
 * answer), something else for a notice the answer may follow.
 */
export async function sendErrorReply(
  deps: AgentRuntimeDependencies,
  agentId: string,
  envelope: MessageEnvelope,
  error: SerializedError,
  key: string,
): Promise<void> {
  if (envelope.replyTo === undefined) return;
  try {
    await deps.reply({
      id: replyId(key),
      from: agentId,
      to: envelope.replyTo,
      type: 'error',
      content: error.message,
      data: { error },
      inReplyTo: envelope.id,
      ...(envelope.correlationId !== undefined ? { correlationId: envelope.correlationId } : {}),
      ...(envelope.threadId !== undefined ? { threadId: envelope.threadId } : {}),
    });
  } catch (sendError) {
    deps.logger.warn(
      { agentId, messageId: envelope.id, error: serializeError(sendError, { secrets: deps.secrets }) },
      'error reply not sent',
    );
  }
}
