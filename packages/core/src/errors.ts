/**
 * One error class for everything Agentrix throws across a package boundary.
 *
 * Codes are a string union so hosts can switch on them exhaustively. `kind` separates a
 * caller's mistake (`user`: bad config, bad input) from a failure of the system or a
 * dependency (`system`). `retryable` says whether the same call may succeed later.
 */
export type AgentrixErrorCode =
  // user mistakes: bad input or configuration
  | 'INVALID_ARGUMENT'
  | 'INVALID_AGENT_SPEC'
  | 'INVALID_MESSAGE'
  | 'MESSAGE_TOO_LARGE'
  | 'AGENT_NOT_FOUND'
  | 'AGENT_EXISTS'
  | 'AGENT_TERMINATED'
  | 'ILLEGAL_STATE_TRANSITION'
  | 'GROUP_NOT_FOUND'
  | 'MODEL_NOT_FOUND'
  | 'TOOL_NOT_FOUND'
  | 'TOOL_EXISTS'
  | 'TOOL_INPUT_INVALID'
  | 'UNSUPPORTED_CONTEXT_VERSION'
  // failures while running
  | 'TOOL_FAILED'
  | 'TOOL_TIMEOUT'
  | 'MODEL_ERROR'
  | 'MODEL_RESPONSE_INVALID'
  /** The provider refused the request as malformed (HTTP 400/422 that is not about context length). */
  | 'PROVIDER_BAD_REQUEST'
  | 'RATE_LIMITED'
  | 'CONTEXT_LENGTH_EXCEEDED'
  | 'AUTH_FAILED'
  | 'BUDGET_EXCEEDED'
  | 'TURN_TIMEOUT'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'CLOSED'
  | 'BUS_UNAVAILABLE'
  | 'STORE_UNAVAILABLE'
  | 'MOCK_SCRIPT_EXHAUSTED'
  | 'INTERNAL';

export type AgentrixErrorKind = 'user' | 'system';

const USER_CODES: ReadonlySet<AgentrixErrorCode> = new Set<AgentrixErrorCode>([
  'INVALID_ARGUMENT',
  'INVALID_AGENT_SPEC',
  'INVALID_MESSAGE',
  'MESSAGE_TOO_LARGE',
  'AGENT_NOT_FOUND',
  'AGENT_EXISTS',
  'AGENT_TERMINATED',
  'ILLEGAL_STATE_TRANSITION',
  'GROUP_NOT_FOUND',
  'MODEL_NOT_FOUND',
  'TOOL_NOT_FOUND',
  'TOOL_EXISTS',
  'TOOL_INPUT_INVALID',
  'UNSUPPORTED_CONTEXT_VERSION',
]);

const RETRYABLE_CODES: ReadonlySet<AgentrixErrorCode> = new Set<AgentrixErrorCode>([
  'MODEL_ERROR',
  'RATE_LIMITED',
  'TIMEOUT',
  'TURN_TIMEOUT',
  'TOOL_TIMEOUT',
  'BUS_UNAVAILABLE',
  'STORE_UNAVAILABLE',
]);

export interface AgentrixErrorOptions {
  cause?: unknown;
  /** Defaults by code: transient failures (model errors, rate limits, timeouts, unavailable backends) are retryable. */
  retryable?: boolean;
  agentId?: string;
  toolName?: string;
  /** Structured details for logs and assertions (never secrets). */
  details?: Record<string, unknown>;
  /** Milliseconds the caller should wait before retrying, when the failing side said so. */
  retryAfterMs?: number;
}

const BRAND = Symbol.for('agentrix.error');

export class AgentrixError extends Error {
  readonly [BRAND] = true;
  readonly code: AgentrixErrorCode;
  readonly kind: AgentrixErrorKind;
  readonly isRetryable: boolean;
  readonly agentId: string | undefined;
  readonly toolName: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: AgentrixErrorCode, message: string, options: AgentrixErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentrixError';
    this.code = code;
    this.kind = USER_CODES.has(code) ? 'user' : 'system';
    this.isRetryable = options.retryable ?? RETRYABLE_CODES.has(code);
    this.agentId = options.agentId;
    this.toolName = options.toolName;
    this.details = options.details;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** True for any AgentrixError, even one created by a second installed copy of this package. */
  static isInstance(value: unknown): value is AgentrixError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /** A plain object for logs, events and dead letters. */
  toJSON(): SerializedError {
    return serializeError(this);
  }
}

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  retryable?: boolean;
  details?: Record<string, unknown>;
  cause?: SerializedError;
}

/** Turns anything thrown into a JSON-safe description (used in events and dead letters). */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (AgentrixError.isInstance(error)) {
    const out: SerializedError = {
      name: error.name,
      message: error.message,
      code: error.code,
      retryable: error.isRetryable,
    };
    if (error.details) out.details = error.details;
    if (error.cause !== undefined && depth < 3) out.cause = serializeError(error.cause, depth + 1);
    return out;
  }
  if (error instanceof Error) {
    const out: SerializedError = { name: error.name, message: error.message };
    if (error.cause !== undefined && depth < 3) out.cause = serializeError(error.cause, depth + 1);
    return out;
  }
  return { name: 'NonError', message: String(error) };
}

/** Wraps an unknown thrown value, keeping AgentrixErrors as they are. */
export function toAgentrixError(
  error: unknown,
  code: AgentrixErrorCode = 'INTERNAL',
  options: Omit<AgentrixErrorOptions, 'cause'> = {},
): AgentrixError {
  if (AgentrixError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AgentrixError(code, message, { ...options, cause: error });
}
