import { useTestPostgres } from '@agentrix/store/testing';
import { describe } from 'vitest';
import { dispatcherContract } from './dispatcher.contract.js';
import { schedulerMigrations } from './migrations.js';

const url = process.env.DATABASE_URL;

describe.skipIf(!url)('Postgres', () => {
  const postgres = useTestPostgres(url!, { migrations: schedulerMigrations });

  dispatcherContract('PostgreSQL server', () => postgres().database);
});
