import { openTestPglite, type TestPglite } from '@agentrix/store/testing';
import { afterAll, beforeAll } from 'vitest';
import { schedulerMigrations } from '../migrations.js';
import { hqContract } from './hq.contract.js';

let pglite: TestPglite;
beforeAll(async () => {
  pglite = await openTestPglite();
  await pglite.database.migrate(schedulerMigrations);
});
afterAll(async () => {
  await pglite?.dispose();
});

hqContract('PGlite', () => pglite.database);
