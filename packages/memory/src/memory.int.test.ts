import { openTestPostgres } from '@agentrix/store/testing';
import { describe, it } from 'vitest';
import { memoryContract } from './memory.contract.js';

const url = process.env.DATABASE_URL;

if (url) {
  memoryContract('Postgres', () => openTestPostgres(url));
} else {
  describe('memory on Postgres', () => {
    it.skip('needs DATABASE_URL (run through scripts/with-services.mjs)', () => {});
  });
}
