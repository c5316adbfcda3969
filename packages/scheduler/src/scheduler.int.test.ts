import { useTestPostgres } from '@agentrix/store/testing';
import { describe } from 'vitest';
import { schedulerMigrations } from './migrations.js';
import { schedulerContract } from './scheduler.contract.js';

const url = process.env.DATABASE_URL;

describe.skipIf(!url)('Postgres', () => {
  const postgres = useTestPostgres(url!, { migrations: schedulerMigrations });

  schedulerContract('PostgreSQL server', () => postgres().database);
});
