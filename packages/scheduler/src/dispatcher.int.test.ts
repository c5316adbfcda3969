import { openTestPostgres, type TestPostgres } from '@agentrix/store/testing';
import { afterAll, beforeAll, describe } from 'vitest';
import { dispatcherContract } from './dispatcher.contract.js';
import { schedulerMigrations } from './migrations.js';

const url = process.env.DATABASE_URL;

describe.skipIf(!url)('Postgres', () => {
  let postgres: TestPostgres;
  beforeAll(async () => {
    postgres = await openTestPostgres(url!);
    await postgres.database.migrate(schedulerMigrations);
  });
  afterAll(async () => {
    await postgres?.dispose();
  });

  dispatcherContract('PostgreSQL server', () => postgres.database);
});
