import { AgentrixError } from '@agentrix/core';

export function invalidArgument(message: string, cause?: unknown): AgentrixError {
  return new AgentrixError('INVALID_ARGUMENT', message, cause === undefined ? {} : { cause });
}

export function closedError(what: string, operation: string): AgentrixError {
  return new AgentrixError('CLOSED', `Cannot ${operation}: this ${what} is closed. Open a new one to continue.`);
}

/** Postgres SQLSTATE classes and Node socket codes that mean "the server is not reachable right now". */
const UNAVAILABLE_SQLSTATE = /^(08|57P0[1-3]|53300)/;
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/** True for errors that say the database is (temporarily) unreachable rather than that the query is wrong. */
export function isUnavailableError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_NODE_CODES.has(code))) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection (?:is )?closed|Client has encountered a connection error/i.test(message);
}

/**
 * Wraps a database error for a caller across the package boundary: unreachable servers become a
 * retryable `STORE_UNAVAILABLE`, everything else `INTERNAL` with the driver error as cause.
 * AgentrixErrors pass through unchanged.
 */
export function storeError(error: unknown, operation: string): AgentrixError {
  if (AgentrixError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isUnavailableError(error)) {
    return new AgentrixError(
      'STORE_UNAVAILABLE',
      `The database is unavailable (${operation}): ${message}. The call can be retried once it is back.`,
      { cause: error, details: { operation } },
    );
  }
  return new AgentrixError('INTERNAL', `Database error during ${operation}: ${message}`, {
    cause: error,
    details: { operation },
  });
}
