import type { Database } from './database.js';
import { type DatabaseOptions, resolveDatabaseOptions } from './database-options.js';
import { displayUrl, parseDatabaseUrl } from './database-url.js';
import { PgliteDatabase } from './pglite-database.js';
import { PostgresDatabase } from './postgres-database.js';

/**
 * Opens a database from its URL: `memory://` (PGlite in memory), a directory path or
 * `file:///dir` (PGlite on disk, created when missing), `postgres://...` / `postgresql://...`
 * (a `pg` pool). Applies `migrations` when given (otherwise call `database.migrate(...)`, or use
 * the stores' `create*` functions, which migrate what they need). Close it with `close()` or
 * `await using`.
 *
 * Throws `INVALID_ARGUMENT` for a bad URL or options, `STORE_UNAVAILABLE` (retryable) when the
 * server cannot be reached, `AUTH_FAILED` when it refuses the user or password and
 * `DATABASE_NOT_FOUND` when the database does not exist (neither is retried: the same URL fails
 * the same way). Messages and `database.url` show the URL with its password hidden.
 */
export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  const resolved = resolveDatabaseOptions(options);
  const location = parseDatabaseUrl(resolved.url);
  const url = displayUrl(resolved.url.trim());
  if (location.kind === 'postgres') {
    const database = await PostgresDatabase.open({
      connectionString: location.connectionString,
      url,
      vector: resolved.vector,
      maxConnections: resolved.maxConnections,
      connectTimeoutMs: resolved.connectTimeoutMs,
      ...(resolved.schema !== undefined ? { schema: resolved.schema } : {}),
      ...(resolved.logger !== undefined ? { logger: resolved.logger } : {}),
    });
    if (resolved.migrations === undefined) return database;
    try {
      await database.migrate(resolved.migrations);
    } catch (error) {
      await database.close().catch(() => {});
      throw error;
    }
    return database;
  }
  return PgliteDatabase.open({
    url,
    vector: resolved.vector,
    relaxedDurability: resolved.relaxedDurability,
    templateDirectory: resolved.templateDirectory,
    ...(location.kind === 'pglite-directory' ? { directory: location.directory } : {}),
    ...(resolved.schema !== undefined ? { schema: resolved.schema } : {}),
    ...(resolved.migrations !== undefined ? { migrations: resolved.migrations } : {}),
  });
}

/** `createDatabase({ url, ...options })`. */
export function openDatabase(url: string, options: Omit<DatabaseOptions, 'url'> = {}): Promise<Database> {
  return createDatabase({ ...options, url });
}
