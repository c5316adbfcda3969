import { AgentrixError } from '@agentrix/core';

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

/** SQLSTATEs of refused credentials: 28P01 invalid_password, 28000 invalid_authorization_specification (unknown role, no pg_hba.conf entry). */
const AUTH_SQLSTATES = new Set(['28P01', '28000']);
/** SQLSTATE 3D000 invalid_catalog_name: the database named in the URL does not exist. */
const DATABASE_NOT_FOUND_SQLSTATE = '3D000';
/** pg's own message when the server asks for a password (SCRAM) and the URL gives none. */
const MISSING_PASSWORD = /^SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a/;

/**
 * Wraps a database error for a caller across the package boundary. AgentrixErrors pass through
 * unchanged; otherwise, by what happened:
 * - refused credentials: `AUTH_FAILED`, not retryable (the same URL fails the same way);
 * - a missing database: `DATABASE_NOT_FOUND`, not retryable;
 * - an unreachable server: a retryable `STORE_UNAVAILABLE`;
 * - anything else: `INTERNAL`.
 * `details` holds the operation and the driver's code (a SQLSTATE, or a Node code like ECONNREFUSED).
 * The driver error is kept as the cause; `AgentrixError` keeps a redacted copy of it (message,
 * stack, `code`), never the connection string.
 */
export function storeError(error: unknown, operation: string): AgentrixError {
  if (AgentrixError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const details = { operation, ...(typeof code === 'string' ? { driverCode: code } : {}) };
  const missingPassword = MISSING_PASSWORD.test(message);
  if (missingPassword || (typeof code === 'string' && AUTH_SQLSTATES.has(code))) {
    const what = missingPassword ? 'asks for a password and the URL has none' : `said: ${message}`;
    return new AgentrixError(
      'AUTH_FAILED',
      `The database refused the credentials (${operation}): the server ${what}. ` +
        'Check the user and password in the database URL (percent-encode characters such as @ / ? # % : in them, ' +
        'e.g. with encodeURIComponent) and that pg_hba.conf lets this user in; retrying will not help.',
      { cause: error, details },
    );
  }
  if (code === DATABASE_NOT_FOUND_SQLSTATE) {
    return new AgentrixError(
      'DATABASE_NOT_FOUND',
      `The database does not exist (${operation}): ${message}. ` +
        'Create it (createdb <name>, or CREATE DATABASE <name>) or fix the database name at the end of the URL.',
      { cause: error, details },
    );
  }
  if (isUnavailableError(error)) {
    return new AgentrixError(
      'STORE_UNAVAILABLE',
      `The database is unavailable (${operation}): ${message}. The call can be retried once it is back.`,
      { cause: error, details },
    );
  }
  return new AgentrixError('INTERNAL', `Database error during ${operation}: ${message}`, { cause: error, details });
}
