import { budgetStoreContract } from '@agentrix/gateway/testing';
import { gatewayStoresContract } from './gateway-stores.contract.js';
import { SqlBudgetStore } from './sql-budget-store.js';
import { storeMigrations } from './store-migrations.js';
import { useTestPglite } from './testing/suite-databases.js';

const pglite = useTestPglite({ migrations: storeMigrations });

budgetStoreContract('SqlBudgetStore on PGlite', () => new SqlBudgetStore({ database: pglite().database }));
gatewayStoresContract('PGlite', () => pglite().database);
