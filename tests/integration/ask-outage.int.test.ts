import { createRedisBus } from '@agentrix/bus';
import { OwnRedisServer } from '@agentrix/bus/testing';
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { afterEach, describe, expect, it } from 'vitest';

// Issue 12, items 2 and 3: ask() honours its timeout and close() its deadline whatever Redis does
// (before the fix, an ask during an outage settled only when the outage ended: 40 s measured).
const servers: OwnRedisServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.resume();
    await server.stop();
  }
});

async function setUp() {
  const server = await OwnRedisServer.start({ persistence: false });
  servers.push(server);
  const bus = await createRedisBus({ url: server.url });
  const agentrix = await createAgentrix({ bus, model: new MockLLM({ fallback: { text: 'pong' } }) });
  await agentrix.create({ id: 'a1' });
  expect((await agentrix.ask('a1', 'ping', { timeoutMs: 5_000 })).content).toBe('pong');
  return { server, bus, agentrix };
}

describe('ask() and close() during a Redis outage', () => {
  for (const outage of ['stopped (SIGSTOP: nothing answers)', 'killed (connection refused)'] as const) {
    it(`ask() rejects at its timeout and close() at its deadline while Redis is ${outage}`, async () => {
      const { server, bus, agentrix } = await setUp();
      if (outage.startsWith('stopped')) server.pause();
      else await server.kill();
      const started = Date.now();
      const error = await agentrix.ask('a1', 'anyone?', { timeoutMs: 1_500 }).catch((caught: unknown) => caught);
      const waited = Date.now() - started;
      expect(error).toMatchObject({ code: expect.stringMatching(/^(TIMEOUT|BUS_UNAVAILABLE)$/) });
      expect(waited).toBeLessThan(4_000);
      const closing = Date.now();
      await agentrix.close({ timeoutMs: 1_000 });
      expect(Date.now() - closing).toBeLessThan(4_000);
      await Promise.race([bus.close(), new Promise((resolve) => setTimeout(resolve, 3_000))]);
    });
  }
});
