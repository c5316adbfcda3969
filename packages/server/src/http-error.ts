import { AgentrixError, type AgentrixErrorCode, redactText, redactValue } from '@agentrix/core';

/** The HTTP status of each error code the API answers with; any other code is a 500. */
const STATUS: Partial<Record<AgentrixErrorCode, number>> = {
  MALFORMED_REQUEST: 400,
  INVALID_ARGUMENT: 400,
  INVALID_AGENT_SPEC: 400,
  INVALID_MESSAGE: 400,
  MESSAGE_TOO_LARGE: 413,
  REQUEST_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  AGENT_NOT_FOUND: 404,
  THREAD_NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  TOOL_NOT_FOUND: 404,
  GROUP_NOT_FOUND: 404,
  AGENT_EXISTS: 409,
  TOOL_EXISTS: 409,
  ILLEGAL_STATE_TRANSITION: 409,
  AGENT_PAUSED: 409,
  AGENT_TERMINATED: 409,
  AGENT_FAILED: 409,
  DELEGATION_CYCLE: 409,
  BUDGET_EXCEEDED: 429,
  RATE_LIMITED: 429,
  CLOSED: 503,
  BUS_UNAVAILABLE: 503,
  STORE_UNAVAILABLE: 503,
  TIMEOUT: 504,
  TURN_TIMEOUT: 504,
};

/** The one error body: `{ error: { code, message, details? } }`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export function statusOf(code: string): number {
  return STATUS[code as AgentrixErrorCode] ?? 500;
}

/**
 * The JSON error response for anything a handler threw. An AgentrixError keeps its code and
 * (redacted) message; anything else is `INTERNAL` with a fixed message, so no driver text, URL or
 * key reaches a client.
 */
export function errorResponse(error: unknown, secrets: readonly string[]): Response {
  const known = AgentrixError.isInstance(error);
  const code = known ? error.code : 'INTERNAL';
  const status = statusOf(code);
  const body: ErrorBody = {
    error: {
      code,
      message: known ? redactText(error.message, secrets) : 'Internal error (see the server log)',
    },
  };
  if (known && error.details && status < 500) body.error.details = redactValue(error.details, secrets);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  return new Response(JSON.stringify(body), { status, headers });
}

export function notFound(what: string, details?: Record<string, unknown>): AgentrixError {
  return new AgentrixError('NOT_FOUND', what, details ? { details } : {});
}
