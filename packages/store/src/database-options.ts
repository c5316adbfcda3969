import { type Logger, parseWith } from '@agentrix/core';
import { z } from 'zod';
import type { Migration } from './migrations.js';
import { DEFAULT_TEMPLATE_DIRECTORY } from './pglite-template.js';

/** `auto`: use pgvector when available, else the brute-force fallback; `required`: fail without it; `off`: never load it. */
export type VectorMode = 'auto' | 'off' | 'required';

export interface DatabaseOptions {
  /**
   * Where the data lives: `memory://` (PGlite in memory), a directory path or `file:///dir`
   * (PGlite on disk), `postgres://user:password@host:5432/db` or `postgresql://...` (a server).
   */
  url: string;
  /** Tables go into this schema (created when missing), ahead of `public` on the search path. Default: none (`public`). */
  schema?: string;
  /** pgvector use. Default `'auto'`. */
  vector?: VectorMode;
  /** Postgres: most pooled connections. Default 10. */
  maxConnections?: number;
  /** Postgres: how long to wait for a connection, in milliseconds. Default 10_000. */
  connectTimeoutMs?: number;
  /** PGlite on disk: do not flush to disk after every statement (faster; a crash may lose the last writes). Default false. */
  relaxedDurability?: boolean;
  /**
   * PGlite: where pre-initialised data directories are kept, one per PGlite version and pgvector
   * mode, so a fresh database (in memory, or a new directory) starts from one (about 0.4 s)
   * instead of running initdb (about 2 s). `false`: run initdb every time. Default
   * `AGENTRIX_PGLITE_TEMPLATES`, then `<os temp dir>/agentrix-pglite-templates`.
   */
  templateDirectory?: string | false;
  /**
   * Applied on open, as `database.migrate(migrations)` would (`createAgentrixStore` passes its
   * own). A fresh PGlite database starts from a template that has them applied already: the
   * first fresh open with a given list runs them and keeps the result beside the initdb template
   * (keyed by the schema and every migration's name and source), so later ones skip them. Their
   * `applied_at` is then when that template was made.
   */
  migrations?: readonly Migration[];
  /** Where connection trouble is reported (Postgres listener reconnects). Default: silent. */
  logger?: Logger;
}

export const DatabaseOptionsSchema = z.object({
  url: z.string(),
  schema: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'use letters, digits and "_" (not starting with a digit), at most 63')
    .optional(),
  vector: z.enum(['auto', 'off', 'required']).default('auto'),
  maxConnections: z.number().int().min(1).max(1000).default(10),
  connectTimeoutMs: z.number().int().positive().default(10_000),
  relaxedDurability: z.boolean().default(false),
  templateDirectory: z
    .union([z.string().min(1), z.literal(false)])
    .default(() => process.env.AGENTRIX_PGLITE_TEMPLATES || DEFAULT_TEMPLATE_DIRECTORY),
  migrations: z.array(z.custom<Migration>((value) => typeof value === 'object' && value !== null)).optional(),
  logger: z.custom<Logger>((value) => typeof value === 'object' && value !== null, 'expected a Logger').optional(),
});

export type ResolvedDatabaseOptions = z.output<typeof DatabaseOptionsSchema>;

export function resolveDatabaseOptions(options: DatabaseOptions): ResolvedDatabaseOptions {
  return parseWith(DatabaseOptionsSchema, options ?? {}, 'INVALID_ARGUMENT', 'database options');
}
