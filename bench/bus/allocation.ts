// Diagnostic (not part of run.ts): bytes the Node process allocates per message end to end,
// by function (V8's sampling heap profiler, objects collected by GC included), so allocation can
// be found and cut: GC is about a sixth of the bus's Node CPU.
//
//   node --conditions=agentrix-source --import tsx bench/bus/allocation.ts [messages] [agents]
//
// Delivers [messages] (default 20,000) through RedisStreamsBus ([agents], default 100, read max 1, ack)
// after a warm-up and prints the bytes per message, total and of the 20 largest functions.
import { randomUUID } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { createRedisBus } from '@agentrix/bus';
import { deliverFixedCount } from './fixed-count.js';
import { startBenchRedis } from './redis-server.js';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const messages = Number(process.argv[2] ?? 20_000);
const agents = Number(process.argv[3] ?? 100);
const redis = await startBenchRedis();
const bus = await createRedisBus({ url: redis.url, namespace: `allocation-${randomUUID()}` });
const session = new Session();
try {
  await deliverFixedCount(bus, 5_000, `warm-up-${randomUUID()}`, agents);
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 1024,
    includeObjectsCollectedByMinorGC: true,
    includeObjectsCollectedByMajorGC: true,
  } as never);
  await deliverFixedCount(bus, messages, `measured-${randomUUID()}`, agents);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } };
  const bytes = new Map<string, number>();
  let total = 0;
  const visit = (node: ProfileNode) => {
    const frame = node.callFrame;
    const name = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop()}:${frame.lineNumber + 1}`;
    bytes.set(name, (bytes.get(name) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children) visit(child);
  };
  visit(profile.head);
  console.log(`allocated per message: ${Math.round(total / messages)} bytes (${messages} messages, sampled)`);
  for (const [name, size] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    console.log(`${String(Math.round(size / messages)).padStart(6)} B  ${name}`);
  }
} finally {
  session.disconnect();
  await bus.close();
  await redis.stop();
}
