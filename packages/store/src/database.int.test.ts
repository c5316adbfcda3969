import { afterAll, beforeAll, describe } from 'vitest';
import { databaseContract } from './database.contract.js';
import { openTestPostgres, type TestPostgres } from './testing/postgres-schema.js';

const url = process.env.DATABASE_URL;

describe.skipIf(!url)('Postgres', () => {
  let postgres: TestPostgres;
  beforeAll(async () => {
    postgres = await openTestPostgres(url!);
  });
  afterAll(async () => {
    await postgres?.dispose();
  });

  databaseContract('PostgreSQL server', {
    database: () => postgres.database,
    openAnother: () => postgres.openAnother(),
    expectVector: false,
  });
});
