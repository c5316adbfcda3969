import { randomUUID } from 'node:crypto';
import { createDatabase, type Database } from '@agentrix/store';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe } from 'vitest';
import { openSqlUpdateLog } from './sql-update-log.js';
import { updateLogContract } from './update-log.contract.js';

// Postgres when DATABASE_URL is set (CI), else PGlite in memory.
const url = process.env.DATABASE_URL ?? 'memory://';
const schema = `telegram_${randomUUID().replaceAll('-', '')}`;
let database: Database;

beforeAll(async () => {
  database = await createDatabase({ url, vector: 'off', ...(url === 'memory://' ? {} : { schema }) });
});
afterAll(async () => {
  if (url !== 'memory://') await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(database.kysely);
  await database.close();
});

describe(`SqlUpdateLog (${url === 'memory://' ? 'PGlite' : 'Postgres'})`, () => {
  updateLogContract(() => openSqlUpdateLog(database));
});
