import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactUrl } from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';

/** Where a database lives, decided from its URL. */
export type DatabaseLocation =
  | { kind: 'pglite-memory' }
  | { kind: 'pglite-directory'; directory: string }
  | { kind: 'postgres'; connectionString: string };

export const ACCEPTED_DATABASE_URLS =
  '"memory://" (PGlite in memory), a directory path or "file://<directory>" (PGlite on disk), ' +
  'or "postgres://user:password@host:5432/database" / "postgresql://..." (a PostgreSQL server)';

/**
 * Hides the credentials of a URL so it can go into messages and logs: `postgres://app:***@host/db`
 * (`redactUrl` of `@agentrix/core`: the password runs to the last `@` before the host, as pg reads
 * it, and `password=` parameters are hidden too). Re-exported: it was always public here.
 */
export { redactUrl };

/**
 * How the store shows a database URL: redacted, and nothing after a `#`. pg ignores a fragment,
 * so a `#` there is a password character left unencoded (`?password=ab#cd`): hide the rest of it too.
 */
export function displayUrl(url: string): string {
  const redacted = redactUrl(url);
  const hash = redacted.indexOf('#');
  return hash < 0 ? redacted : `${redacted.slice(0, hash)}#***`;
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
          `Invalid database URL "${displayUrl(value)}": an in-memory database is just "memory://" (nothing after it).`,
        );
      }
      return { kind: 'pglite-memory' };
    case 'file': {
      let directory: string;
      try {
        directory = fileURLToPath(value);
      } catch (error) {
        throw invalidArgument(
          `Invalid database URL "${displayUrl(value)}": a file URL must be absolute, like "file:///var/lib/agentrix" (or give a plain directory path).`,
          { cause: error },
        );
      }
      return { kind: 'pglite-directory', directory };
    }
    case 'postgres':
    case 'postgresql':
      try {
        if (new URL(value).hash !== '') throw new TypeError('a "#" starts a fragment, which pg ignores');
      } catch (error) {
        throw invalidArgument(
          `Invalid database URL "${displayUrl(value)}": not a valid URL; expected "postgres://user:password@host:5432/database". ` +
            'Percent-encode characters such as @ / ? # % : in the user and password (encodeURIComponent).',
          { cause: error },
        );
      }
      return { kind: 'postgres', connectionString: value };
    default:
      throw invalidArgument(
        `Unsupported database URL "${displayUrl(value)}" (scheme "${scheme}:"): expected ${ACCEPTED_DATABASE_URLS}.`,
      );
  }
}
