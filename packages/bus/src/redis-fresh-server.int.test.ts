import { randomUUID } from 'node:crypto';
import type { MessageBus } from '@agentrix/core';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisBus } from './index.js';
import { OwnRedisServer } from './redis-test-support.js';

/**
 * Request/reply exactly as `AgentManager.ask()` does it: send to the agent with `replyTo` a fresh
 * `host:<id>` inbox, read that inbox until the reply comes (acking what it reads), then delete it.
 * Resolves false when no reply came within `timeoutMs`.
 */
async function ask(bus: MessageBus, agent: string, timeoutMs: number): Promise<boolean> {
  const inbox = `host:${randomUUID()}`;
  const sent = await bus.send({ from: inbox, to: agent, replyTo: inbox, content: 'question' });
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    for (;;) {
      const deliveries = await bus.read(inbox, { consumer: 'host', signal });
      if (deliveries.length > 0) {
        await bus.ack(
          inbox,
          deliveries.map((delivery) => delivery.deliveryId),
        );
      }
      if (deliveries.some((delivery) => delivery.envelope.inReplyTo === sent.id)) return true;
    }
  } catch (error) {
    if (signal.aborted) return false;
    throw error;
  } finally {
    await bus.deleteInbox(inbox);
  }
}

/** An agent's loop: one message at a time, reply to `replyTo`, then ack (as the runtime does). */
async function answer(bus: MessageBus, agent: string, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const [delivery] = await bus.read(agent, { consumer: 'agent', max: 1, signal }).catch(() => []);
    if (delivery === undefined) continue;
    const { replyTo, id } = delivery.envelope;
    await bus.send({ from: agent, to: replyTo ?? 'nobody', inReplyTo: id, content: 'answer' });
    await bus.ack(agent, [delivery.deliveryId]);
  }
}

/** One fresh redis-server and a bus created at once after it starts; the first asks go out at once too. */
async function firstAsksOnAFreshServer(cleanups: Array<() => Promise<unknown>>): Promise<number> {
  const server = await OwnRedisServer.start({ persistence: false });
  cleanups.push(() => server.stop());
  const bus = await createRedisBus({ url: server.url, namespace: 'fresh' });
  cleanups.push(() => bus.close());
  const stop = new AbortController();
  const agent = answer(bus, 'agent', stop.signal);
  const outcomes = [
    ...(await Promise.all([ask(bus, 'agent', 3_000), ask(bus, 'agent', 3_000), ask(bus, 'agent', 3_000)])),
    await ask(bus, 'agent', 3_000),
    ...(await Promise.all([ask(bus, 'agent', 3_000), ask(bus, 'agent', 3_000)])),
  ];
  stop.abort();
  await agent;
  return outcomes.filter((answered) => !answered).length;
}

describe('RedisStreamsBus on a freshly started Redis (issue 12, item 14)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  // Before the fix, a blocked read that subscribed while the bus's wake-up connection was still
  // in its handshake never got its wake-up (see RedisWakeHub #whenReady): 11 of 20 fresh servers
  // lost the replies of their first asks. 24 servers, 6 at a time.
  it('loses no reply of the first asks on any of 24 fresh redis-servers', async () => {
    let lost = 0;
    for (let wave = 0; wave < 4; wave++) {
      const rounds = await Promise.all(Array.from({ length: 6 }, () => firstAsksOnAFreshServer(cleanups)));
      lost += rounds.reduce((sum, count) => sum + count, 0);
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    }
    expect(lost).toBe(0);
  });
});

// The cluster contract run once lost 'after abort' (a send right after a blocked read was aborted
// was handed to the reader that left). Both orders that did it, forced on a server of our own:
// `CLIENT PAUSE` and `SCRIPT FLUSH` would stall or slow the tests sharing the suite's Redis.
describe('RedisStreamsBus: a send right after a blocked reader left is not handed to it', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  async function open(): Promise<{ bus: MessageBus; admin: Redis }> {
    const server = await OwnRedisServer.start({ persistence: false });
    cleanups.push(() => server.stop());
    const bus = await createRedisBus({ url: server.url, namespace: 'left' });
    cleanups.push(() => bus.close());
    const admin = new Redis(server.url);
    cleanups.push(() => admin.quit());
    return { bus, admin };
  }

  async function abortAndSend(bus: MessageBus, read: Promise<unknown>, controller: AbortController): Promise<void> {
    controller.abort();
    await expect(read).rejects.toMatchObject({ code: 'ABORTED' });
    await bus.send({ from: 'host', to: 'agent', content: 'after abort' });
    // Another consumer: a message handed to the reader that left would sit in its lease.
    const deliveries = await bus.read('agent', { consumer: 'next', blockMs: 0 });
    expect(deliveries.map((delivery) => delivery.envelope.content)).toEqual(['after abort']);
  }

  it('when the reader left while its read was in flight', async () => {
    const { bus, admin } = await open();
    // The inbox is subscribed and not known drained (a wake-up came): the next blocked read reads.
    const first = bus.read('agent', { consumer: 'w0', blockMs: 5_000 });
    await wait(50);
    await bus.send({ from: 'host', to: 'agent', content: 'first' });
    expect((await first).map((delivery) => delivery.envelope.content)).toEqual(['first']);
    // Scripts wait 150 ms: the read below is in flight when its reader leaves, and arms the inbox for it.
    await admin.call('CLIENT', 'PAUSE', '150', 'WRITE');
    const controller = new AbortController();
    const read = bus.read('agent', { consumer: 'gone', signal: controller.signal });
    await wait(20);
    await abortAndSend(bus, read, controller);
  });

  it('when Redis forgot the disarm script (its EVAL comes a round trip late)', async () => {
    const { bus, admin } = await open();
    const controller = new AbortController();
    const read = bus.read('agent', { consumer: 'gone', signal: controller.signal });
    read.catch(() => {});
    await wait(50);
    expect(await admin.get('agentrix:left:inbox:{agent}:armed')).toMatch(/\ngone$/);
    // As after a restart, except that the send script is loaded again (by a send elsewhere).
    await admin.call('SCRIPT', 'FLUSH');
    await bus.send({ from: 'host', to: 'elsewhere', content: 'loads the send script' });
    await abortAndSend(bus, read, controller);
  });
});
