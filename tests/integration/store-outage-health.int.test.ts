import { randomUUID } from 'node:crypto';
import { createAgentrix } from '@agentrix/runtime';
import { openDatabase } from '@agentrix/store';
import { MockLLM } from '@agentrix/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { startTcpRelay } from './tcp-relay.js';

// Issue 18, item 3: health() reports a Postgres store that is down, and close() stays bounded
// while it is. The store is the real Postgres of DATABASE_URL, reached through a TCP relay the
// test stalls (nothing answers) or cuts (connections dropped, port closed); a schema of its own.
// Before the fix, a cut ended the process (an unhandled 'error' on a checked-out pg client) and
// a stall made close() wait forever (the bus's UNLISTEN and the pool's end never returned).
const schemas: string[] = [];
afterAll(async () => {
  const admin = await openDatabase(process.env.DATABASE_URL!);
  for (const schema of schemas) await admin.kysely.schema.dropSchema(schema).ifExists().cascade().execute();
  await admin.close();
});

describe('health() and close() with the Postgres store down', () => {
  for (const outage of ['stalled', 'cut'] as const) {
    it(`reports the store down within its timeout and closes within its deadline (${outage})`, async () => {
      const { DATABASE_URL } = process.env;
      if (!DATABASE_URL) throw new Error('DATABASE_URL must be set: run through `pnpm test`');
      const schema = `health_${randomUUID().replaceAll('-', '')}`;
      schemas.push(schema);
      const relay = await startTcpRelay(new URL(DATABASE_URL));
      const agentrix = await createAgentrix({
        store: { url: relay.url(), schema },
        model: new MockLLM({ fallback: { text: 'pong' } }),
      });
      try {
        await agentrix.create({ id: 'a1' });
        expect((await agentrix.ask('a1', 'ping', { timeoutMs: 5_000 })).content).toBe('pong');
        expect(await agentrix.health()).toMatchObject({ status: 'ok', store: { status: 'ok' } });

        if (outage === 'stalled') relay.stall();
        else await relay.cut();
        const started = Date.now();
        const health = await agentrix.health({ timeoutMs: 500 });
        expect(Date.now() - started).toBeLessThan(1_500);
        expect(health.status).toBe('down');
        expect(health.store).toMatchObject({ status: 'down', lastError: expect.any(String) });
        // The bus is the store's own (no bus option): down with it.
        expect(health.bus.status).toBe('down');
        // The store's URL carries a password: never in a report.
        expect(JSON.stringify(health)).not.toContain(new URL(DATABASE_URL).password || '\u0000');
      } finally {
        const closing = Date.now();
        await agentrix.close({ timeoutMs: 1_000 });
        // The agents' deadline (1 s), then the store's grace for statements in flight (2 s).
        expect(Date.now() - closing).toBeLessThan(6_000);
        await relay.cut().catch(() => {});
      }
    }, 20_000);
  }
});
