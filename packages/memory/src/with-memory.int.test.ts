import { openTestPostgres } from '@agentrix/store/testing';
import { describe, it } from 'vitest';
import { withMemoryContract } from './with-memory.contract.js';

const url = process.env.DATABASE_URL;

if (url) {
  withMemoryContract('Postgres', () => openTestPostgres(url));
} else {
  describe('withMemory on Postgres', () => {
    it.skip('needs DATABASE_URL (run through scripts/with-services.mjs)', () => {});
  });
}
