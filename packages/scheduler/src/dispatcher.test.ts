import { openTestPglite, type TestPglite } from '@agentrix/store/testing';
import { afterAll, beforeAll } from 'vitest';
import { dispatcherContract } from './dispatcher.contract.js';
import { schedulerMigrations } from './migrations.js';

let pglite: TestPglite;
beforeAll(async () => {
  pglite = await openTestPglite();
  await pglite.database.migrate(schedulerMigrations);
});
afterAll(async () => {
  await pglite?.dispose();
});

dispatcherContract('PGlite', () => pglite.database);
