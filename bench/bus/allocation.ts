// Diagnostic (not part of run.ts): bytes the Node process allocates per message end to end,
// by function (V8's sampling heap profiler, objects collected by GC included), so allocation can
// be found and cut: GC is about a sixth of the bus's Node CPU.
//
//   node --conditions=agentrix-source --import tsx bench/bus/allocation.ts [messages] [agents]
//
// Delivers [messages] (default 20,000) through RedisStreamsBus ([agents], default 100, read max 1, ack)
// after a warm-up and prints the bytes per message, total and of the 20 largest functions.
import { randomUUID } from 'node:crypto';
import { createRedisBus } from '@agentrix/bus';
import { deliverFixedCount } from './fixed-count.js';
import { startHeapSampling } from './heap-sampling.js';
import { startBenchRedis } from './redis-server.js';

const messages = Number(process.argv[2] ?? 20_000);
const agents = Number(process.argv[3] ?? 100);
const redis = await startBenchRedis();
const bus = await createRedisBus({ url: redis.url, namespace: `allocation-${randomUUID()}` });
try {
  await deliverFixedCount(bus, 5_000, `warm-up-${randomUUID()}`, agents);
  const sampling = await startHeapSampling(1024);
  await deliverFixedCount(bus, messages, `measured-${randomUUID()}`, agents);
  const { total, sites } = await sampling.stop();
  console.log(`allocated per message: ${Math.round(total / messages)} bytes (${messages} messages, sampled)`);
  for (const [name, size] of sites.slice(0, 20)) {
    console.log(`${String(Math.round(size / messages)).padStart(6)} B  ${name}`);
  }
} finally {
  await bus.close();
  await redis.stop();
}
