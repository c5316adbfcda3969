import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { AgentrixError, type AgentrixEventMap, AgentrixEvents } from '@agentrix/core';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisBus, type RedisClientLike, RedisStreamsBus } from './index.js';
import { messageBusContract } from './message-bus.contract.js';
import { freePort, requireRedisUrl } from './redis-test-support.js';

messageBusContract('RedisStreamsBus', (options) =>
  createRedisBus({ url: requireRedisUrl(), namespace: `test-${randomUUID()}`, ...options }),
);

describe('RedisStreamsBus', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function openBus(options: Parameters<typeof createRedisBus>[0] = {}): Promise<RedisStreamsBus> {
    const bus = await createRedisBus({ url: requireRedisUrl(), namespace: `test-${randomUUID()}`, ...options });
    cleanups.push(() => bus.close());
    return bus;
  }

  function openClient(): Redis {
    const client = new Redis(requireRedisUrl());
    cleanups.push(() => client.quit());
    return client;
  }

  it('fails with BUS_UNAVAILABLE naming the URL without its password when Redis is unreachable', async () => {
    const port = await freePort();
    const url = `redis://agent:s3cret-pass@127.0.0.1:${port}/2`;
    const error = await createRedisBus({ url, connectTimeoutMs: 1000 }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(AgentrixError.isInstance(error)).toBe(true);
    expect((error as AgentrixError).code).toBe('BUS_UNAVAILABLE');
    expect((error as AgentrixError).message).toContain(`redis://agent:***@127.0.0.1:${port}/2`);
    expect((error as AgentrixError).message).not.toContain('s3cret');
    expect(JSON.stringify((error as AgentrixError).details)).not.toContain('s3cret');
  });

  it('rejects bad options with INVALID_ARGUMENT before connecting', async () => {
    await expect(createRedisBus({ url: 'redis://127.0.0.1:1', namespace: 'has space' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(() => new RedisStreamsBus({} as never)).toThrow(/client/);
  });

  it('never closes a client the host passed in, and interrupts its blocked reads on close', async () => {
    const client = openClient();
    const bus = new RedisStreamsBus({
      client: client as unknown as RedisClientLike,
      namespace: `test-${randomUUID()}`,
    });
    const blocked = bus.read('agent', { consumer: 'w1' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await bus.close();
    expect(await blocked).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
  });

  it('shares inboxes, wake-ups and de-duplication between buses (processes) on one Redis', async () => {
    const namespace = `test-${randomUUID()}`;
    const sender = await openBus({ namespace });
    const reader = await openBus({ namespace });
    const blocked = reader.read('agent', { consumer: 'worker-b', blockMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const sent = await sender.send({ from: 'host', to: 'agent', content: 'across', externalId: 'update-1' });
    const [delivery] = await blocked;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(delivery!.envelope).toEqual(sent);
    expect((await reader.send({ from: 'host', to: 'agent', content: 'again', externalId: 'update-1' })).id).toBe(
      sent.id,
    );
    await sender.ack('agent', [delivery!.deliveryId]);
    expect(await reader.stats('agent')).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
    await sender.createGroup('team');
    await sender.join('team', 'agent');
    expect(await reader.members('team')).toEqual(['agent']);
  });

  it('keeps 10,000 blocked reads on one pub/sub connection and wakes the right one', async () => {
    const name = `test-${randomUUID()}`;
    const client = new Redis(requireRedisUrl(), { connectionName: name, enableAutoPipelining: true });
    cleanups.push(() => client.quit());
    const bus = new RedisStreamsBus({ client: client as unknown as RedisClientLike, namespace: name });
    cleanups.push(() => bus.close());
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    const reads = Array.from({ length: 10_000 }, (_, index) =>
      bus.read(`agent-${index}`, { consumer: 'w', max: 1, signal: controller.signal }).catch((error: unknown) => error),
    );
    const deadline = Date.now() + 30_000;
    while (bus.wakeSubscriptions < 10_000 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(bus.wakeSubscriptions).toBe(10_000);
    // The host's command connection plus one subscriber connection for all of them.
    expect(await connectionsNamed(client, name)).toBe(2);
    const started = Date.now();
    await bus.send({ from: 'host', to: 'agent-4321', content: 'only you' });
    const [delivery] = (await reads[4321]) as Array<{ envelope: { content: string } }>;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(delivery!.envelope.content).toBe('only you');
    controller.abort();
    const outcomes = await Promise.all(reads);
    expect(outcomes.filter((outcome) => AgentrixError.isInstance(outcome)).length).toBe(9_999);
  });

  it('dead-letters entries written by something else without crashing the reader', async () => {
    const events = new AgentrixEvents();
    const dead: AgentrixEventMap['message.dead-lettered'][] = [];
    events.on('message.dead-lettered', (event) => dead.push(event));
    const namespace = `test-${randomUUID()}`;
    const bus = await openBus({ namespace, events });
    const client = openClient();
    const stream = `agentrix:${namespace}:inbox:{agent}:stream`;
    await bus.send({ from: 'host', to: 'agent', content: 'before' });
    await client.xadd(stream, '*', 'foo', 'bar');
    await client.xadd(stream, '*', 'envelope', 'not json');
    await client.xadd(stream, '*', 'envelope', JSON.stringify({ hello: 'world' }));
    await bus.send({ from: 'host', to: 'agent', content: 'after' });
    const contents: string[] = [];
    for (;;) {
      const deliveries = await bus.read('agent', { blockMs: 0, max: 1 });
      if (deliveries.length === 0) break;
      contents.push(...deliveries.map((delivery) => delivery.envelope.content));
      await bus.ack(
        'agent',
        deliveries.map((delivery) => delivery.deliveryId),
      );
    }
    expect(contents).toEqual(['before', 'after']);
    const letters = await bus.deadLetters('agent');
    expect(letters).toHaveLength(3);
    for (const letter of letters) {
      expect(letter.envelope.type).toBe('malformed');
      expect(letter.error).toMatchObject({ code: 'INVALID_MESSAGE', message: expect.stringMatching(/Malformed/) });
    }
    expect(JSON.parse(letters[0]!.envelope.content)).toEqual(['foo', 'bar']);
    expect(dead).toHaveLength(3);
    expect(await bus.stats('agent')).toEqual({ unread: 0, inFlight: 0, deadLetters: 3 });
    // A blocked reader is not stuck behind malformed entries either.
    await client.xadd(stream, '*', 'junk', '1');
    const blocked = bus.read('agent', { blockMs: 5000 });
    await bus.send({ from: 'host', to: 'agent', content: 'later' });
    expect((await blocked).map((delivery) => delivery.envelope.content)).toEqual(['later']);
  });

  it('keeps acked messages out of the stream, so the stream is the backlog and never needs trimming', async () => {
    const namespace = `test-${randomUUID()}`;
    const bus = await openBus({ namespace });
    const client = openClient();
    for (let index = 0; index < 50; index++) await bus.send({ from: 'host', to: 'agent', content: String(index) });
    const deliveries = await bus.read('agent', { max: 30, blockMs: 0 });
    await bus.ack(
      'agent',
      deliveries.map((delivery) => delivery.deliveryId),
    );
    expect(await client.xlen(`agentrix:${namespace}:inbox:{agent}:stream`)).toBe(20);
  });

  it('gives back what a read took when its signal fires mid-flight, keeping the attempt count', async () => {
    const bus = await openBus();
    await bus.send({ from: 'host', to: 'agent', content: 'x' });
    for (let round = 0; round < 10; round++) {
      const controller = new AbortController();
      const read = bus.read('agent', { blockMs: 0, signal: controller.signal });
      controller.abort(); // the read script is already on its way
      await expect(read).rejects.toMatchObject({ code: 'ABORTED' });
    }
    const [delivery] = await bus.read('agent', { blockMs: 0 });
    expect(delivery!.envelope.content).toBe('x');
    expect(delivery!.attempt).toBe(1);
  });
});

async function connectionsNamed(client: Redis, name: string): Promise<number> {
  const list = (await client.call('CLIENT', 'LIST')) as string;
  return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
}
