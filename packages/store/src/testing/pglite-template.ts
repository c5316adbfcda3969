// Test support (`@agentrix/store/testing`): a fresh on-disk PGlite database in a temp directory of
// its own. It starts from the store's PGlite template (pglite-template.ts), so it opens in ~0.3 s.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Database } from '../database.js';
import { openDatabase } from '../open-database.js';

export interface TestPglite {
  database: Database;
  directory: string;
  /** Closes the database and removes its directory. */
  dispose(): Promise<void>;
}

/** A fresh on-disk PGlite database (pgvector when available) in its own temp directory. */
export async function openTestPglite(): Promise<TestPglite> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'agentrix-pglite-test-'));
  const database = await openDatabase(directory).catch(async (error: unknown) => {
    await rm(directory, { recursive: true, force: true });
    throw error;
  });
  return {
    database,
    directory,
    async dispose() {
      await database.close().catch(() => {});
      await rm(directory, { recursive: true, force: true });
    },
  };
}
