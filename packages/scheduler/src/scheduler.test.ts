import { openTestPglite, type TestPglite } from '@agentrix/store/testing';
import { afterAll, beforeAll } from 'vitest';
import { schedulerMigrations } from './migrations.js';
import { schedulerContract } from './scheduler.contract.js';

let pglite: TestPglite;
beforeAll(async () => {
  pglite = await openTestPglite();
  await pglite.database.migrate(schedulerMigrations);
});
afterAll(async () => {
  await pglite?.dispose();
});

schedulerContract('PGlite', () => pglite.database);
