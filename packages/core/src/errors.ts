import { isRedactedCopy, redactError, redactText, redactValue } from './redact.js';

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
  /** The agent was paused by its host and takes no work until `resume()`. */
  | 'AGENT_PAUSED'
  /** A delegated ask would go back to an agent already on the delegation path (A asks B asks A). */
  | 'DELEGATION_CYCLE'
  /** A thread id that names no conversation of the agent (`forget` of a thread it does not have). */
  | 'THREAD_NOT_FOUND'
  | 'ILLEGAL_STATE_TRANSITION'
  | 'GROUP_NOT_FOUND'
  | 'MODEL_NOT_FOUND'
  | 'TOOL_NOT_FOUND'
  | 'TOOL_EXISTS'
  | 'TOOL_INPUT_INVALID'
  | 'UNSUPPORTED_CONTEXT_VERSION'
  /** An HTTP request body that is not parseable (malformed JSON). */
  | 'MALFORMED_REQUEST'
  /** An HTTP request body over the server's size limit. */
  | 'REQUEST_TOO_LARGE'
  /** A missing or wrong bearer token. */
  | 'UNAUTHORIZED'
  /** A token whose scope does not allow the request. */
  | 'FORBIDDEN'
  /** An unknown route, or a job, dead letter, approval or budget that does not exist (any more). */
  | 'NOT_FOUND'
  // failures while running
  | 'TOOL_FAILED'
  | 'TOOL_TIMEOUT'
  | 'MODEL_ERROR'
  | 'MODEL_RESPONSE_INVALID'
  /** The provider refused the request as malformed (HTTP 400/422 that is not about context length). */
  | 'PROVIDER_BAD_REQUEST'
  | 'RATE_LIMITED'
  | 'CONTEXT_LENGTH_EXCEEDED'
  /** Credentials were refused: a provider's API key, a database's or Redis's user and password. Not retryable. */
  | 'AUTH_FAILED'
  /** The database named in the URL does not exist on the server. Not retryable. */
  | 'DATABASE_NOT_FOUND'
  /** The agent stopped on an error that every message would hit (e.g. a refused API key) and waits for `resume()`. */
  | 'AGENT_FAILED'
  | 'BUDGET_EXCEEDED'
  | 'TURN_TIMEOUT'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'CLOSED'
  | 'BUS_UNAVAILABLE'
  | 'STORE_UNAVAILABLE'
  /** A chat channel's API (Telegram's Bot API) refused a call or could not be reached; `isRetryable` says which. */
  | 'CHANNEL_ERROR'
  | 'INTERNAL'
  | keyof AgentrixErrorCodeExtensions;

/**
 * Codes another package adds by declaration merging, the code as the key (the value is unused):
 * `@agentrix/testing` adds `MOCK_SCRIPT_EXHAUSTED` this way, so core carries no test-only code.
 * An added code is a `system` error, not retryable unless the thrower passes `retryable`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in other packages.
export interface AgentrixErrorCodeExtensions {}

export type AgentrixErrorKind = 'user' | 'system';

const USER_CODES: ReadonlySet<AgentrixErrorCode> = new Set<AgentrixErrorCode>([
  'INVALID_ARGUMENT',
  'INVALID_AGENT_SPEC',
  'INVALID_MESSAGE',
  'MESSAGE_TOO_LARGE',
  'AGENT_NOT_FOUND',
  'AGENT_EXISTS',
  'AGENT_TERMINATED',
  'AGENT_PAUSED',
  'DELEGATION_CYCLE',
  'THREAD_NOT_FOUND',
  'ILLEGAL_STATE_TRANSITION',
  'GROUP_NOT_FOUND',
  'MODEL_NOT_FOUND',
  'TOOL_NOT_FOUND',
  'TOOL_EXISTS',
  'TOOL_INPUT_INVALID',
  'UNSUPPORTED_CONTEXT_VERSION',
  'MALFORMED_REQUEST',
  'REQUEST_TOO_LARGE',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
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

/**
 * Every AgentrixError is born redacted: its message has URL credentials, keys and tokens removed
 * (see `redactText`), and a cause that is not an AgentrixError is replaced by a redacted copy
 * (`redactError`: name, message, stack and plain diagnostic fields such as `code` and `status`;
 * never a request, headers or a parsed input). So `console.error(error)`, `JSON.stringify(error)`,
 * events, logs and stored rows cannot carry a secret that reached an error message.
 */
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
    const { cause } = options;
    super(
      redactText(message),
      cause === undefined
        ? undefined
        : { cause: AgentrixError.isInstance(cause) || isRedactedCopy(cause) ? cause : redactError(cause) },
    );
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

export interface SerializeErrorOptions {
  /** Exact secrets the host registered, removed as well as the patterns `redactText` always removes. */
  secrets?: readonly (string | undefined)[];
}

/**
 * Turns anything thrown into a JSON-safe description (used in events, logs, dead letters and
 * stored rows), redacted through the whole cause chain: messages and every string in `details`.
 */
export function serializeError(error: unknown, options: SerializeErrorOptions = {}): SerializedError {
  return serializeAt(error, options.secrets, 0);
}

function serializeAt(error: unknown, secrets: SerializeErrorOptions['secrets'], depth: number): SerializedError {
  if (AgentrixError.isInstance(error)) {
    const out: SerializedError = {
      name: error.name,
      message: redactText(error.message, secrets),
      code: error.code,
      retryable: error.isRetryable,
    };
    if (error.details) out.details = redactValue(error.details, secrets);
    if (error.cause !== undefined && depth < 3) out.cause = serializeAt(error.cause, secrets, depth + 1);
    return out;
  }
  if (error instanceof Error) {
    const out: SerializedError = { name: error.name, message: redactText(error.message, secrets) };
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') out.code = code;
    if (error.cause !== undefined && depth < 3) out.cause = serializeAt(error.cause, secrets, depth + 1);
    return out;
  }
  if (isSerializedError(error)) {
    return redactValue(error, secrets);
  }
  return { name: 'NonError', message: redactText(String(error), secrets) };
}

/** A plain object already shaped like a {@link SerializedError} (from a bus or a store). */
function isSerializedError(value: unknown): value is SerializedError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SerializedError).name === 'string' &&
    typeof (value as SerializedError).message === 'string'
  );
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

/**
 * A caller's mistake (bad options or input): `INVALID_ARGUMENT` with the message, and the cause
 * (a zod error, a parse failure) or structured details when there are any.
 */
export function invalidArgument(
  message: string,
  options: Pick<AgentrixErrorOptions, 'cause' | 'details'> = {},
): AgentrixError {
  return new AgentrixError('INVALID_ARGUMENT', message, options);
}
