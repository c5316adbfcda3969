import { randomUUID } from 'node:crypto';
import { openDatabase } from '@agentrix/store';
import { sql } from 'kysely';
import { describe, it } from 'vitest';
import { withMemoryContract } from './with-memory.contract.js';

const url = process.env.DATABASE_URL;

if (url) {
  withMemoryContract('Postgres', async () => {
    const schema = `test_with_memory_${randomUUID().replaceAll('-', '')}`;
    const database = await openDatabase(url, { schema });
    return {
      database,
      async dispose() {
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(database.kysely).catch(() => {});
        await database.close();
      },
    };
  });
} else {
  describe('withMemory on Postgres', () => {
    it.skip('needs DATABASE_URL (run through scripts/with-services.mjs)', () => {});
  });
}
