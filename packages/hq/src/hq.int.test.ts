import { schedulerMigrations } from '@agentrix/scheduler';
import { openTestPostgres, type TestPostgres } from '@agentrix/store/testing';
import { afterAll, beforeAll, describe } from 'vitest';
import { hqContract } from './hq.contract.js';

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

  hqContract('PostgreSQL server', () => postgres.database);
});
