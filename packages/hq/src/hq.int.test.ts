import { schedulerMigrations } from '@agentrix/scheduler';
import { useTestPostgres } from '@agentrix/store/testing';
import { describe } from 'vitest';
import { hqContract } from './hq.contract.js';

const url = process.env.DATABASE_URL;

describe.skipIf(!url)('Postgres', () => {
  const postgres = useTestPostgres(url!, { migrations: schedulerMigrations });

  hqContract('PostgreSQL server', () => postgres().database);
});
