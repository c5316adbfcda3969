// Diagnostic (not part of run.ts): only the end-to-end throughput cases, repeated, for profiling
// and A/B runs; prints the median rate and CPU per message of Node and of redis-server.
//
//   node --conditions=agentrix-source --expose-gc --import tsx bench/bus/e2e-only.ts [repeats] [cases]
//   cases: comma list of memory, r1, r16, r1000 (default all)
import { randomUUID } from 'node:crypto';
import { createInMemoryBus, createRedisBus } from '@agentrix/bus';
import type { MessageBus } from '@agentrix/core';
import { collectGarbage } from '../lib/measure.js';
import { type EndToEndResult, endToEndThroughput } from './end-to-end.js';
import { startBenchRedis } from './redis-server.js';
import { RedisServerCpu } from './server-cpu.js';

const repeats = Number(process.argv[2] ?? 1);
const wanted = (process.argv[3] ?? 'memory,r1,r16,r1000').split(',');
const redis = await startBenchRedis();
const memory = createInMemoryBus();
const redisBus = await createRedisBus({ url: redis.url, namespace: `e2e-${randomUUID()}` });
const serverCpu = new RedisServerCpu(redis.url);
const cases: Array<[string, MessageBus, number, number, number]> = [
  ['memory', memory, 100, 100, 1],
  ['r1', redisBus, 100, 100, 1],
  ['r16', redisBus, 100, 100, 16],
  ['r1000', redisBus, 1000, 200, 1],
];
for (const [label, bus, agents, senders, readMax] of cases) {
  if (!wanted.includes(label)) continue;
  const runs: EndToEndResult[] = [];
  for (let i = 0; i < repeats; i++) {
    collectGarbage();
    runs.push(
      await endToEndThroughput(bus, {
        agents,
        senders,
        readMax,
        warmupMs: 500,
        durationMs: 3000,
        prefix: `e-${randomUUID()}`,
        serverCpuMicros: bus === memory ? undefined : () => serverCpu.micros(),
      }),
    );
  }
  runs.sort((a, b) => a.rate - b.rate);
  const median = runs[Math.floor(runs.length / 2)]!;
  // The least CPU per message of the runs: the figure least inflated by other work on the machine.
  const least = (micros: (run: EndToEndResult) => number) => Math.min(...runs.map(micros)).toFixed(1);
  console.log(
    `${label.padEnd(8)} median ${Math.round(median.rate)} msg/s  node ${median.nodeMicros.toFixed(1)} µs/msg  redis ${median.serverMicros.toFixed(1)} µs/msg  (least: node ${least((run) => run.nodeMicros)}, redis ${least((run) => run.serverMicros)})  [${runs.map((run) => Math.round(run.rate)).join(', ')}]`,
  );
}
await serverCpu.close();
await redisBus.close();
await memory.close();
await redis.stop();
