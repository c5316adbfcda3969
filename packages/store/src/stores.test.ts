import { storeMigrations } from './store-migrations.js';
import { storesContract } from './stores.contract.js';
import { openTestPglite } from './testing/pglite-template.js';
import { useTestPglite } from './testing/suite-databases.js';

const pglite = useTestPglite({ migrations: storeMigrations });

storesContract('PGlite', () => pglite().database, openTestPglite);
