import { randomUUID } from 'node:crypto';
import type { Delivery } from '@agentrix/core';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RedisClientLike, RedisStreamsBus } from './index.js';
import { messageBusContract } from './message-bus.contract.js';
import { keySlot } from './redis-slot.js';
import { requireRedisClusterNodes } from './redis-test-support.js';

// The three-primary cluster scripts/with-services.mjs starts (REDIS_CLUSTER_URLS).
let shared: Cluster | undefined;

function sharedCluster(): RedisClientLike {
  shared ??= new Cluster(requireRedisClusterNodes(), { enableAutoPipelining: false });
  return shared as unknown as RedisClientLike;
}

afterAll(async () => {
  await shared?.quit();
});

messageBusContract(
  'RedisStreamsBus on a Redis Cluster',
  (options) => new RedisStreamsBus({ client: sharedCluster(), namespace: `test-${randomUUID()}`, ...options }),
);

describe('RedisStreamsBus on a Redis Cluster', () => {
  const buses: RedisStreamsBus[] = [];
  beforeAll(() => {
    sharedCluster();
  });
  afterEach(async () => {
    for (const bus of buses.splice(0)) await bus.close();
  });

  function openBus(namespace = `test-${randomUUID()}`): RedisStreamsBus {
    const bus = new RedisStreamsBus({ client: sharedCluster(), namespace });
    buses.push(bus);
    return bus;
  }

  it('batches sends and reads over inboxes on every primary, one script per slot', async () => {
    const bus = openBus();
    const inboxes = Array.from({ length: 60 }, (_, index) => `agent-${index}`);
    // The inboxes cover all three primaries' slot ranges (0-5460, 5461-10922, 10923-16383).
    const ranges = new Set(inboxes.map((inbox) => Math.floor(keySlot(inbox) / 5461)));
    expect(ranges.size).toBe(3);
    // Sent in one tick: one batch of the bus, split per slot.
    await Promise.all(inboxes.map((to) => bus.send({ from: 'host', to, content: to })));
    const reads = await Promise.all(inboxes.map((inbox) => bus.read(inbox, { consumer: 'w', max: 10 })));
    expect(reads.map((deliveries) => deliveries.map((delivery) => delivery.envelope.content))).toEqual(
      inboxes.map((inbox) => [inbox]),
    );
    await Promise.all(inboxes.map((inbox, index) => bus.ack(inbox, [reads[index]![0]!.deliveryId])));
    const stats = await Promise.all(inboxes.map((inbox) => bus.stats(inbox)));
    expect(stats.every((stat) => stat.unread === 0 && stat.inFlight === 0)).toBe(true);
  });

  it('wakes a blocked reader and broadcasts to members whose inboxes live on other primaries', async () => {
    const namespace = `test-${randomUUID()}`;
    const sender = openBus(namespace);
    const reader = openBus(namespace);
    await sender.createGroup('team');
    const members = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const member of members) await sender.join('team', member);
    const blocked = members.map((member) => reader.read(member, { consumer: 'w', blockMs: 5_000 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sender.broadcast({ from: 'host', group: 'team', content: 'hello team' });
    const woken: Delivery[][] = await Promise.all(blocked);
    expect(woken.map((deliveries) => deliveries.map((delivery) => delivery.envelope.to))).toEqual(
      members.map((member) => [member]),
    );
  });
});
