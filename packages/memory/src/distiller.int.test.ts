import { openTestPostgres } from '@agentrix/store/testing';
import { describe, it } from 'vitest';
import { distillerContract } from './distiller.contract.js';

const url = process.env.DATABASE_URL;

if (url) {
  distillerContract('Postgres', () => openTestPostgres(url));
} else {
  describe('distiller on Postgres', () => {
    it.skip('needs DATABASE_URL (run through scripts/with-services.mjs)', () => {});
  });
}
