import { describe } from 'vitest';
import { storeMigrations } from './store-migrations.js';
import { storesContract } from './stores.contract.js';
import { openTestPostgres } from './testing/postgres-schema.js';
import { useTestPostgres } from './testing/suite-databases.js';

const url = process.env.DATABASE_URL;

describe.skipIf(!url)('Postgres', () => {
  const postgres = useTestPostgres(url!, { migrations: storeMigrations });

  storesContract(
    'PostgreSQL server',
    () => postgres().database,
    () => openTestPostgres(url!),
  );
});
