// Diagnostic (not part of run.ts): only the end-to-end throughput cases, repeated, for profiling.
//
//   node --conditions=agentrix-source --expose-gc --import tsx bench/bus/e2e-only.ts [repeats] [cases]
//   cases: comma list of memory, r1, r16, r1000 (default all)
import { randomUUID } from 'node:crypto';
import { createInMemoryBus, createRedisBus } from '@agentrix/bus';
import type { MessageBus } from '@agentrix/core';
import { endToEndThroughput } from './end-to-end.js';
import { startBenchRedis } from './redis-server.js';

const repeats = Number(process.argv[2] ?? 1);
const wanted = (process.argv[3] ?? 'memory,r1,r16,r1000').split(',');
const redis = await startBenchRedis();
const memory = createInMemoryBus();
const redisBus = await createRedisBus({ url: redis.url, namespace: `e2e-${randomUUID()}` });
const cases: Array<[string, MessageBus, number, number, number]> = [
  ['memory', memory, 100, 100, 1],
  ['r1', redisBus, 100, 100, 1],
  ['r16', redisBus, 100, 100, 16],
  ['r1000', redisBus, 1000, 200, 1],
];
for (const [label, bus, agents, senders, readMax] of cases) {
  if (!wanted.includes(label)) continue;
  const rates: number[] = [];
  for (let i = 0; i < repeats; i++) {
    rates.push(
      await endToEndThroughput(bus, {
        agents,
        senders,
        readMax,
        warmupMs: 500,
        durationMs: 3000,
        prefix: `e-${randomUUID()}`,
      }),
    );
  }
  rates.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(8)} median ${Math.round(rates[Math.floor(rates.length / 2)]!)} msg/s  [${rates.map(Math.round).join(', ')}]`,
  );
}
await redisBus.close();
await memory.close();
await redis.stop();
