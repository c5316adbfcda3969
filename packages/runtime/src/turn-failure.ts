import { isReplyInbox, type SerializedError } from '@agentrix/core';

/**
 * What a failed turn means for its message and its agent (the policy of docs/runtime.md, "When a
 * turn fails"):
 * - `outage`: the bus or the store is unreachable; keep the message, pause, resume by itself;
 * - `budget`: a budget is spent; keep the message, pause, try again later;
 * - `systemic`: every message would hit it (refused credentials, an unknown model or database);
 *   give the message back and stop in `error` until the host resumes the agent;
 * - `message`: this message failed; give it back for redelivery (dead letter after the bus's
 *   `maxDeliveries`) and go on.
 */
export type TurnFailure = 'outage' | 'budget' | 'systemic' | 'message';

const SYSTEMIC_CODES: ReadonlySet<string> = new Set([
  'AUTH_FAILED',
  'MODEL_NOT_FOUND',
  'DATABASE_NOT_FOUND',
  'UNSUPPORTED_CONTEXT_VERSION',
]);

/** Classifies an error by its code (an AgentrixError, or one serialized in the registry). */
export function classifyFailure(error: { code?: string | undefined }): TurnFailure {
  const { code } = error;
  if (code === 'STORE_UNAVAILABLE' || code === 'BUS_UNAVAILABLE') return 'outage';
  if (code === 'BUDGET_EXCEEDED') return 'budget';
  return code !== undefined && SYSTEMIC_CODES.has(code) ? 'systemic' : 'message';
}

/** Why a paused agent is paused. */
export interface PauseReason {
  /** `host`: `pause()` was called; `outage`: the bus or store is down; `budget`: a budget is spent. */
  kind: 'host' | 'outage' | 'budget';
  /** The error behind an `outage` or `budget` pause. */
  error?: SerializedError;
  /** When the agent tries again by itself (outage and budget pauses), ms since the epoch. */
  resumesAt?: number;
}

/**
 * The pause of an agent recorded as `paused` (restored from the registry, or hosted by another
 * process), told by the error it was recorded with: an outage or a spent budget, which end by
 * themselves, else the host's pause (recorded with no error).
 */
export function recordedPause(lastError: SerializedError | undefined): PauseReason {
  if (lastError !== undefined) {
    const failure = classifyFailure(lastError);
    if (failure === 'outage' || failure === 'budget') return { kind: failure, error: lastError };
  }
  return { kind: 'host' };
}

/**
 * The id of the reply to a message: derived from the request, so a turn that runs again (its
 * message redelivered after a crash) sends a reply the bus de-duplicates, and the asker gets
 * one answer. Message ids are at most 200 characters; so is this.
 */
export function replyId(requestId: string): string {
  return requestId.length <= 194 ? `${requestId}:reply` : `${requestId.slice(0, 160)}:${hash(requestId)}:reply`;
}

/** A short, stable hash (FNV-1a, two rounds) that keeps long derived ids apart. */
function hash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x811c9dc5);
  }
  return `${(a >>> 0).toString(36)}${(b >>> 0).toString(36)}`;
}

/**
 * The `name` of a user message: the sender, except the host (`host`, or a host's reply inbox
 * `host:<id>`), which is just `host` so prompts do not change from one ask to the next.
 */
export function speakerName(from: string): string {
  return isReplyInbox(from) ? 'host' : from;
}
