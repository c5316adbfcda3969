// Test support (`@agentrix/store/testing`): one test database for the tests of a file or a
// `describe` block, opened before them and disposed of after them.
import { afterAll, beforeAll } from 'vitest';
import type { DatabaseOptions } from '../database-options.js';
import { openTestPglite, type TestPglite } from './pglite-template.js';
import { openTestPostgres, type TestPostgres } from './postgres-schema.js';

/**
 * A fresh PGlite (see {@link openTestPglite}) for the tests of the enclosing file or `describe`:
 * opened with `migrations` in `beforeAll`, disposed of in `afterAll`. Returns its getter, to call
 * inside the tests: `contract('PGlite', () => pglite().database)`.
 */
export function useTestPglite(options: Pick<DatabaseOptions, 'migrations'> = {}): () => TestPglite {
  return useForSuite(() => openTestPglite(options));
}

/** Like {@link useTestPglite}, on a schema of its own on the server at `url` (see {@link openTestPostgres}). */
export function useTestPostgres(url: string, options: Pick<DatabaseOptions, 'migrations'> = {}): () => TestPostgres {
  return useForSuite(() => openTestPostgres(url, options));
}

function useForSuite<Fixture extends { dispose(): Promise<void> }>(open: () => Promise<Fixture>): () => Fixture {
  let fixture: Fixture | undefined;
  // A fresh PGlite whose migrations are not in a template yet: seconds on a loaded machine.
  beforeAll(async () => {
    fixture = await open();
  }, 30_000);
  afterAll(async () => {
    await fixture?.dispose();
  });
  return () => {
    if (fixture === undefined) {
      throw new Error(
        'The test database opens in beforeAll: read it inside a test or a hook, not while tests are collected',
      );
    }
    return fixture;
  };
}
