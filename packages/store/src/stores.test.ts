import { afterAll, beforeAll } from 'vitest';
import { storeMigrations } from './store-migrations.js';
import { storesContract } from './stores.contract.js';
import { openTestPglite, type TestPglite } from './testing/pglite-template.js';

let pglite: TestPglite;
beforeAll(async () => {
  pglite = await openTestPglite();
  await pglite.database.migrate(storeMigrations);
});
afterAll(async () => {
  await pglite?.dispose();
});

storesContract('PGlite', () => pglite.database, openTestPglite);
