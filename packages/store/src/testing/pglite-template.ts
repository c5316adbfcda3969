// Test support (`@agentrix/store/testing`): a fresh on-disk PGlite database in a temp directory of
// its own. It starts from the store's PGlite template (pglite-template.ts), so it opens in ~0.3 s.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Database } from '../database.js';
import type { DatabaseOptions } from '../database-options.js';
import { openDatabase } from '../open-database.js';

export interface TestPglite {
  database: Database;
  directory: string;
  /** Closes the database (the one in `database` then) and removes its directory. */
  dispose(): Promise<void>;
}

/**
 * A fresh on-disk PGlite database (pgvector when available) in its own temp directory, with
 * `migrations` applied (as `createDatabase({ migrations })` applies them: from a migrated
 * template, made by the first open of that list).
 */
export async function openTestPglite(options: Pick<DatabaseOptions, 'migrations'> = {}): Promise<TestPglite> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'agentrix-pglite-test-'));
  const database = await openDatabase(directory, options).catch(async (error: unknown) => {
    await rm(directory, { recursive: true, force: true });
    throw error;
  });
  const pglite: TestPglite = {
    database,
    directory,
    async dispose() {
      // The database it holds now: a test that reopened the directory may have put another here.
      await pglite.database.close().catch(() => {});
      await rm(directory, { recursive: true, force: true });
    },
  };
  return pglite;
}
