import { AgentrixError, type MessageBus } from '@agentrix/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisBus } from './index.js';
import { OwnRedisServer } from './redis-test-support.js';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries a call that fails with a retryable error (Redis down) until it succeeds. */
async function retrying<T>(call: () => Promise<T>, deadline: number): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!AgentrixError.isInstance(error) || !error.isRetryable || Date.now() > deadline) throw error;
      await wait(50);
    }
  }
}

describe('RedisStreamsBus across a Redis restart (appendonly yes)', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  it('loses no message when Redis is killed and restarted mid-run, and blocked reads resume', async () => {
    const server = await OwnRedisServer.start();
    cleanups.push(() => server.stop());
    const bus: MessageBus = await createRedisBus({ url: server.url, namespace: 'restart', leaseMs: 1000 });
    cleanups.push(() => bus.close());
    const deadline = Date.now() + 60_000;
    const total = 2000;

    // A reader blocked on an idle inbox from before the crash until after it.
    const idleRead = bus.read('idle-agent', { consumer: 'w', blockMs: 30_000 });

    const received = new Set<string>();
    let deliveries = 0;
    const controller = new AbortController();
    const consumer = (async () => {
      while (received.size < total && Date.now() < deadline) {
        const batch = await bus.read('agent', { consumer: 'w', max: 10, signal: controller.signal });
        deliveries += batch.length;
        for (const delivery of batch) received.add(delivery.envelope.id);
        // An ack lost in the crash only means a redelivery after the lease.
        await bus
          .ack(
            'agent',
            batch.map((delivery) => delivery.deliveryId),
          )
          .catch(() => {});
      }
    })();

    let restarted: Promise<void> | undefined;
    for (let index = 0; index < total; index++) {
      if (index === total / 2) {
        await server.kill();
        restarted = wait(300).then(() => server.restart());
      }
      // The same explicit id on a retry: if the first attempt was stored, the retry is a no-op.
      await retrying(() => bus.send({ id: `m-${index}`, from: 'host', to: 'agent', content: String(index) }), deadline);
    }
    await restarted;
    await consumer;
    expect(received.size).toBe(total);
    // Deliveries whose ack was lost in the crash come back once their lease ends: ack them too.
    for (;;) {
      const batch = await bus.read('agent', { consumer: 'w', max: 100, blockMs: 1500 });
      if (batch.length === 0) break;
      deliveries += batch.length;
      await bus.ack(
        'agent',
        batch.map((delivery) => delivery.deliveryId),
      );
    }

    await bus.send({ from: 'host', to: 'idle-agent', content: 'after the restart' });
    const [woken] = await idleRead;
    expect(woken?.envelope.content).toBe('after the restart');

    const stats = await retrying(() => bus.stats('agent'), deadline);
    expect(stats).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
    console.log(`restart test: ${total} messages, ${deliveries} deliveries (${deliveries - total} redelivered)`);
  });
});
