import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidArgument } from './errors.js';

/** Where a database lives, decided from its URL. */
export type DatabaseLocation =
  | { kind: 'pglite-memory' }
  | { kind: 'pglite-directory'; directory: string }
  | { kind: 'postgres'; connectionString: string };

export const ACCEPTED_DATABASE_URLS =
  '"memory://" (PGlite in memory), a directory path or "file://<directory>" (PGlite on disk), ' +
  'or "postgres://user:password@host:5432/database" / "postgresql://..." (a PostgreSQL server)';

/** Hides the password (and a user-info-only secret) of a URL so it can go into messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_, scheme: string, userInfo: string) => {
    const colon = userInfo.indexOf(':');
    return `${scheme}${colon >= 0 ? `${userInfo.slice(0, colon)}:***` : '***'}@`;
  });
}

/**
 * Parses a database URL. Throws `INVALID_ARGUMENT` naming the accepted schemes (with
 * credentials redacted) for anything else.
 */
export function parseDatabaseUrl(url: unknown): DatabaseLocation {
  if (typeof url !== 'string' || url.trim() === '') {
    throw invalidArgument(
      `Invalid database URL ${typeof url === 'string' ? '""' : String(url)}: expected ${ACCEPTED_DATABASE_URLS}.`,
    );
  }
  const value = url.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  // A single letter before ":" is a Windows drive (C:\data), not a scheme.
  if (scheme === undefined || scheme.length === 1) {
    return { kind: 'pglite-directory', directory: path.resolve(value) };
  }
  switch (scheme) {
    case 'memory':
      if (!/^memory:(\/\/)?$/i.test(value)) {
        throw invalidArgument(
          `Invalid database URL "${redactUrl(value)}": an in-memory database is just "memory://" (nothing after it).`,
        );
      }
      return { kind: 'pglite-memory' };
    case 'file': {
      let directory: string;
      try {
        directory = fileURLToPath(value);
      } catch (error) {
        throw invalidArgument(
          `Invalid database URL "${redactUrl(value)}": a file URL must be absolute, like "file:///var/lib/agentrix" (or give a plain directory path).`,
          error,
        );
      }
      return { kind: 'pglite-directory', directory };
    }
    case 'postgres':
    case 'postgresql':
      try {
        new URL(value);
      } catch (error) {
        throw invalidArgument(
          `Invalid database URL "${redactUrl(value)}": not a valid URL; expected "postgres://user:password@host:5432/database".`,
          error,
        );
      }
      return { kind: 'postgres', connectionString: value };
    default:
      throw invalidArgument(
        `Unsupported database URL "${redactUrl(value)}" (scheme "${scheme}:"): expected ${ACCEPTED_DATABASE_URLS}.`,
      );
  }
}
