import { afterAll, beforeAll } from 'vitest';
import { openTestPglite, type TestPglite } from '../../../store/src/testing/pglite-template.js';
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
