import { openTestPglite, type TestPglite } from '@agentrix/store/testing';
import { afterAll, beforeAll } from 'vitest';
import { jobQueueContract } from './job-queue.contract.js';
import { schedulerMigrations } from './migrations.js';

let pglite: TestPglite;
beforeAll(async () => {
  pglite = await openTestPglite();
  await pglite.database.migrate(schedulerMigrations);
});
afterAll(async () => {
  await pglite?.dispose();
});

jobQueueContract('PGlite', () => pglite.database, openTestPglite);
