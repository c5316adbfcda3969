import { useTestPglite, useTestPostgres } from '@agentrix/store/testing';
import { describe } from 'vitest';
import { openSqlUpdateLog } from './sql-update-log.js';
import { updateLogContract } from './update-log.contract.js';

// Postgres when DATABASE_URL is set (CI), else PGlite.
const url = process.env.DATABASE_URL;
const testDatabase = url ? useTestPostgres(url) : useTestPglite();

describe(`SqlUpdateLog (${url ? 'Postgres' : 'PGlite'})`, () => {
  updateLogContract(() => openSqlUpdateLog(testDatabase().database));
});
