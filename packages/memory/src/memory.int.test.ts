import { describe, it } from 'vitest';
import { openTestPostgres } from '../../store/src/testing/postgres-schema.js';
import { memoryContract } from './memory.contract.js';

const url = process.env.DATABASE_URL;

if (url) {
  memoryContract('Postgres', () => openTestPostgres(url));
} else {
  describe('memory on Postgres', () => {
    it.skip('needs DATABASE_URL (run through scripts/with-services.mjs)', () => {});
  });
}
