import { schedulerMigrations } from '@agentrix/scheduler';
import { openTestPglite, type TestPglite } from '@agentrix/store/testing';
import { afterAll, beforeAll } from 'vitest';
import { hqContract } from './hq.contract.js';

let pglite: TestPglite;
beforeAll(async () => {
  pglite = await openTestPglite();
  await pglite.database.migrate(schedulerMigrations);
}, 30_000); // a fresh PGlite: ~2 s, several times that on a loaded machine
afterAll(async () => {
  await pglite?.dispose();
});

hqContract('PGlite', () => pglite.database);
