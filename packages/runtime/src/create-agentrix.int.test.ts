import { randomUUID } from 'node:crypto';
import { openDatabase } from '@agentrix/store';
import { MockLLM } from '@agentrix/testing';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgentrix } from './create-agentrix.js';

const databaseUrl = process.env.DATABASE_URL as string;
const redisUrl = process.env.REDIS_URL as string;
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A Postgres schema and a Redis namespace of this test's own, removed afterwards. */
function namespaces(): { schema: string; namespace: string } {
  const id = randomUUID().replaceAll('-', '');
  const schema = `test_${id}`;
  const namespace = `test-${id}`;
  cleanups.push(async () => {
    const database = await openDatabase(databaseUrl);
    await database.kysely.schema.dropSchema(schema).ifExists().cascade().execute();
    await database.close();
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`*${namespace}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });
  return { schema, namespace };
}

describe('createAgentrix on Postgres and Redis', () => {
  it('opens a postgres:// store and a redis:// bus, and closes both', async () => {
    const { schema, namespace } = namespaces();
    const agentrix = await createAgentrix({
      model: new MockLLM({ fallback: { text: 'pong' } }),
      store: { url: databaseUrl, schema },
      bus: { url: redisUrl, namespace },
    });
    const { store, bus } = agentrix;
    expect(bus).not.toBe(store?.bus);
    await agentrix.create({ id: 'a1' });
    expect((await agentrix.ask('a1', 'ping')).content).toBe('pong');
    await agentrix.waitForIdle();
    expect((await store!.registry.list()).map((entry) => entry.spec.id)).toEqual(['a1']);

    await agentrix.close();
    await expect(bus.send({ from: 'x', to: 'y', content: 'z' })).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(store!.registry.list()).rejects.toThrow();
  });

  it('leaves an ioredis client it was given open', async () => {
    const { namespace } = namespaces();
    const client = new Redis(redisUrl);
    cleanups.push(() => client.quit());
    const agentrix = await createAgentrix({
      model: new MockLLM({ fallback: { text: 'pong' } }),
      bus: { client, namespace },
    });
    await agentrix.create({ id: 'a1' });
    expect((await agentrix.ask('a1', 'ping')).content).toBe('pong');
    await agentrix.close();
    expect(await client.ping()).toBe('PONG');
  });

  it('takes a bare ioredis client as the bus', async () => {
    const client = new Redis(redisUrl);
    cleanups.push(() => client.quit());
    const agentrix = await createAgentrix({ model: new MockLLM({ fallback: { text: 'pong' } }), bus: client });
    expect(agentrix.bus.inner.constructor.name).toBe('RedisStreamsBus');
    await agentrix.close();
    expect(await client.ping()).toBe('PONG');
  });
});
