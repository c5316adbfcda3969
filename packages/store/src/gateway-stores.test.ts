import { budgetStoreContract } from '@agentrix/gateway/testing';
import { afterAll, beforeAll } from 'vitest';
import { gatewayStoresContract } from './gateway-stores.contract.js';
import { SqlBudgetStore } from './sql-budget-store.js';
import { storeMigrations } from './store-migrations.js';
import { openTestPglite, type TestPglite } from './testing/pglite-template.js';

let pglite: TestPglite;
beforeAll(async () => {
  pglite = await openTestPglite();
  await pglite.database.migrate(storeMigrations);
});
afterAll(async () => {
  await pglite?.dispose();
});

budgetStoreContract('SqlBudgetStore on PGlite', () => new SqlBudgetStore({ database: pglite.database }));
gatewayStoresContract('PGlite', () => pglite.database);
