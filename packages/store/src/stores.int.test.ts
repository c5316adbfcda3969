import { afterAll, beforeAll, describe } from 'vitest';
import { storeMigrations } from './store-migrations.js';
import { storesContract } from './stores.contract.js';
import { openTestPostgres, type TestPostgres } from './testing/postgres-schema.js';

const url = process.env.DATABASE_URL;

describe.skipIf(!url)('Postgres', () => {
  let postgres: TestPostgres;
  beforeAll(async () => {
    postgres = await openTestPostgres(url!);
    await postgres.database.migrate(storeMigrations);
  });
  afterAll(async () => {
    await postgres?.dispose();
  });

  storesContract(
    'PostgreSQL server',
    () => postgres.database,
    () => openTestPostgres(url!),
  );
});
