// A worker process for redis-multi-process.int.test.ts: hosts agents the way the runtime does
// (one read of max 1 per agent, handle, ack) and counts every handling in Redis.
//
//   node --conditions=agentrix-source --import tsx redis-multi-process-worker.ts
//   env: REDIS_URL, BUS_NAMESPACE, WORKER_NAME, AGENTS (comma list), LEASE_MS
import { setMaxListeners } from 'node:events';
import { Redis } from 'ioredis';
import { createRedisBus } from './index.js';

const url = required('REDIS_URL');
const namespace = required('BUS_NAMESPACE');
const worker = required('WORKER_NAME');
const agents = required('AGENTS').split(',');
const leaseMs = Number(process.env.LEASE_MS ?? 2000);

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

const bus = await createRedisBus({ url, namespace, leaseMs });
const counter = new Redis(url, { enableAutoPipelining: true });
const controller = new AbortController();
setMaxListeners(0, controller.signal); // one listener per hosted agent's read
const handledKey = `${namespace}:handled`;

async function host(agent: string): Promise<void> {
  while (!controller.signal.aborted) {
    let deliveries: Awaited<ReturnType<typeof bus.read>>;
    try {
      deliveries = await bus.read(agent, { consumer: worker, max: 1, signal: controller.signal });
    } catch (error) {
      if (controller.signal.aborted) return;
      throw error;
    }
    for (const delivery of deliveries) {
      // The turn: its effect is stored before the ack (a crash in between means a redelivery).
      await counter.hincrby(handledKey, delivery.envelope.id, 1);
      await counter.hincrby(`${namespace}:by-worker`, worker, 1);
      if (Math.random() < 0.05) await new Promise((resolve) => setTimeout(resolve, 1));
      await bus.ack(agent, [delivery.deliveryId]);
    }
  }
}

process.on('SIGTERM', () => {
  controller.abort();
});

const loops = agents.map((agent) => host(agent));
process.stdout.write('ready\n');
await Promise.all(loops);
await bus.close();
await counter.quit();
