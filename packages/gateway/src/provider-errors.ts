import { AgentrixError, type AgentrixErrorCode, abortError, redactError, redactText, type Usage } from '@agentrix/core';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

/** Longest raw body kept on an error, in characters. */
const MAX_RAW_BODY = 2_000;

/**
 * A provider's text made safe to keep on an error: core's `redactText` (URL credentials, keys,
 * tokens, secret fields) plus the provider's own secrets (its API key, which may look like
 * anything), cut to 2,000 characters.
 */
function redactBody(text: string, secrets: readonly (string | undefined)[] = []): string {
  const out = redactText(text, secrets);
  return out.length > MAX_RAW_BODY ? `${out.slice(0, MAX_RAW_BODY)}…(${out.length - MAX_RAW_BODY} more chars)` : out;
}

/** Milliseconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
export function parseRetryAfter(headers: Headers | undefined, now: number): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Math.ceil(Number(ms)));
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds * 1_000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface ProviderErrorContext {
  /** `openai/<model>`, for messages. */
  source: string;
  signal?: AbortSignal | undefined;
  now: number;
  secrets?: readonly (string | undefined)[];
}

/**
 * Maps an error from the `openai` client (or the network under it) to an AgentrixError:
 * 429 -> RATE_LIMITED (with `retryAfterMs`), 401/403 -> AUTH_FAILED, 404 -> MODEL_NOT_FOUND,
 * a context-length 400 -> CONTEXT_LENGTH_EXCEEDED, other 400/422 -> PROVIDER_BAD_REQUEST,
 * timeouts -> TIMEOUT, 5xx / connection failures -> MODEL_ERROR (retryable),
 * unparseable bodies -> MODEL_RESPONSE_INVALID.
 */
export function mapProviderError(error: unknown, context: ProviderErrorContext): AgentrixError {
  if (AgentrixError.isInstance(error)) return error;
  if (context.signal?.aborted) return abortError(context.signal, `call to ${context.source}`);
  // The client's errors carry the request, the response body and the raw message: only a
  // redacted copy (name, message, stack, status) goes on as the cause, scrubbed of our own key.
  const secrets = context.secrets ?? [];
  const cause = redactError(error, secrets);
  const safe = (text: string) => redactText(text, secrets);
  if (error instanceof APIUserAbortError) {
    return new AgentrixError('ABORTED', `The call to ${context.source} was aborted`, { cause });
  }
  if (error instanceof APIConnectionTimeoutError) {
    return new AgentrixError('TIMEOUT', `${context.source} did not answer in time; retry or raise the timeout`, {
      cause,
    });
  }
  if (error instanceof APIConnectionError) {
    const reason = error.cause instanceof Error ? error.cause.message : '';
    // fetch refuses a URL with `user:password@` before sending anything: retrying cannot help.
    const credentialsInUrl = /includes credentials/i.test(reason);
    return new AgentrixError(
      'MODEL_ERROR',
      `Could not reach ${context.source}${reason ? `: ${safe(reason)}` : ''}${credentialsInUrl ? ' (put the key in `apiKey` or `headers`, not in the baseURL)' : ''}`,
      { cause, retryable: !credentialsInUrl },
    );
  }
  if (error instanceof APIError) return mapStatusError(error, context, cause);
  if (error instanceof SyntaxError) {
    return new AgentrixError(
      'MODEL_RESPONSE_INVALID',
      `${context.source} sent a body that is not valid JSON: ${safe(error.message)}`,
      { cause, retryable: true, details: { parseError: redactBody(error.message, secrets) } },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AgentrixError('MODEL_ERROR', `The call to ${context.source} failed: ${safe(message)}`, {
    cause,
    retryable: true,
  });
}

function mapStatusError(error: APIError, context: ProviderErrorContext, cause: Error): AgentrixError {
  const status = error.status;
  const providerCode = error.code ?? undefined;
  const details: Record<string, unknown> = { status };
  if (providerCode) details.providerCode = providerCode;
  if (error.type) details.providerType = error.type;
  if (error.requestID) details.requestId = error.requestID;
  if (error.error !== undefined) details.body = redactBody(JSON.stringify(error.error), context.secrets);
  const text = redactBody(error.message, context.secrets);
  let code: AgentrixErrorCode;
  let retryable: boolean | undefined;
  let hint = '';
  let retryAfterMs: number | undefined;
  if (status === 429) {
    code = 'RATE_LIMITED';
    retryAfterMs = parseRetryAfter(error.headers, context.now);
    if (providerCode === 'insufficient_quota') {
      retryable = false;
      hint = ' (the account is out of quota; add credit before retrying)';
    } else {
      hint = retryAfterMs === undefined ? '' : ` (retry after ${retryAfterMs} ms)`;
    }
  } else if (status === 401 || status === 403) {
    code = 'AUTH_FAILED';
    hint = ' (check the API key and its permissions)';
  } else if (status === 404) {
    code = 'MODEL_NOT_FOUND';
    hint = ' (check the model name and the base URL)';
  } else if (status === 400 && isContextLength(error)) {
    code = 'CONTEXT_LENGTH_EXCEEDED';
    hint = ' (shorten the prompt or lower maxTokens)';
  } else if (status === 408) {
    code = 'TIMEOUT';
  } else if (status === 400 || status === 422) {
    code = 'PROVIDER_BAD_REQUEST';
    retryable = false;
  } else if (status !== undefined && (status >= 500 || status === 409)) {
    code = 'MODEL_ERROR';
    retryable = true;
  } else {
    code = 'MODEL_ERROR';
    retryable = false;
  }
  return new AgentrixError(code, `${context.source} answered ${status}: ${text}${hint}`, {
    cause,
    details,
    ...(retryable === undefined ? {} : { retryable }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

function isContextLength(error: APIError): boolean {
  if (error.code === 'context_length_exceeded' || error.code === 'string_above_max_length') return true;
  return /context length|maximum context|too many tokens|context window/i.test(error.message);
}

/**
 * A typed error for a body that parsed but does not have the expected shape (or did not parse).
 * The provider answered, so the call is billed: `partialUsage` says what it used (the usage the
 * body reports when it can be read, else an estimate), for the gateway to charge.
 */
export function invalidResponse(
  source: string,
  what: string,
  rawBody: string,
  options: { secrets?: readonly (string | undefined)[]; cause?: unknown; partialUsage?: Usage } = {},
): AgentrixError {
  const secrets = options.secrets ?? [];
  const details: Record<string, unknown> = { rawBody: redactBody(rawBody, secrets) };
  if (options.partialUsage) details.partialUsage = options.partialUsage;
  return new AgentrixError('MODEL_RESPONSE_INVALID', `${source} sent an invalid answer: ${what}`, {
    retryable: true,
    ...(options.cause === undefined ? {} : { cause: redactError(options.cause, secrets) }),
    details,
  });
}
