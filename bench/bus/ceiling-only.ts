// Diagnostic (not part of run.ts, which runs the same case once per run.ts): the ceiling of the
// end-to-end row alone, repeated (see ceiling.ts): plain ioredis, no bus, the least any Redis
// Streams bus must do per message.
//
//   node --conditions=agentrix-source --expose-gc --import tsx bench/bus/ceiling-only.ts [repeats] [chunk] [agents] [client]
//
// Defaults: 3 runs, 24 streams per XREADGROUP, 100 agents, client `lean` (or `ioredis`).
// CEILING_STATS=1 prints Redis's commands per message of each run.
import { Redis } from 'ioredis';
import { ceilingThroughput } from './ceiling.js';
import type { EndToEndResult } from './end-to-end.js';
import { startBenchRedis } from './redis-server.js';
import { RedisServerCpu } from './server-cpu.js';

const repeats = Number(process.argv[2] ?? 3);
const chunk = Number(process.argv[3] ?? 24);
const agents = Number(process.argv[4] ?? 100);
const client = process.argv[5] === 'ioredis' ? 'ioredis' : 'lean';
const redis = await startBenchRedis();
const serverCpu = new RedisServerCpu(redis.url);
const connection = new Redis(redis.url, { enableAutoPipelining: false });
const runs: EndToEndResult[] = [];
for (let i = 0; i < repeats; i++) {
  const result = await ceilingThroughput(connection, {
    agents,
    chunk,
    client,
    warmupMs: 500,
    durationMs: 3000,
    serverCpuMicros: () => serverCpu.micros(),
    commandStats: process.env.CEILING_STATS === '1',
  });
  runs.push(result);
  console.log(
    `ceiling ${client} chunk ${chunk}: ${Math.round(result.rate)} msg/s  node ${result.nodeMicros.toFixed(1)} µs/msg  redis ${result.serverMicros.toFixed(1)} µs/msg`,
  );
}
runs.sort((a, b) => a.rate - b.rate);
const median = runs[Math.floor(runs.length / 2)]!;
const least = (pick: (run: EndToEndResult) => number) => Math.min(...runs.map(pick)).toFixed(1);
console.log(
  `ceiling  median ${Math.round(median.rate)} msg/s  node ${median.nodeMicros.toFixed(1)} µs/msg  redis ${median.serverMicros.toFixed(1)} µs/msg  (least: node ${least((run) => run.nodeMicros)}, redis ${least((run) => run.serverMicros)})`,
);
await serverCpu.close();
connection.disconnect();
await redis.stop();
