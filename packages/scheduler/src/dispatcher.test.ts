import { afterAll, beforeAll } from 'vitest';
import { openTestPglite, type TestPglite } from '../../store/src/testing/pglite-template.js';
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
