import { afterAll, beforeAll } from 'vitest';
import { openTestPglite, type TestPglite } from '../../store/src/testing/pglite-template.js';
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
