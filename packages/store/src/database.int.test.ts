import { describe } from 'vitest';
import { databaseContract } from './database.contract.js';
import { useTestPostgres } from './testing/suite-databases.js';

const url = process.env.DATABASE_URL;

describe.skipIf(!url)('Postgres', () => {
  const postgres = useTestPostgres(url!);

  databaseContract('PostgreSQL server', {
    database: () => postgres().database,
    openAnother: () => postgres().openAnother(),
    expectVector: false,
  });
});
