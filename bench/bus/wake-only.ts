// Diagnostic (not part of run.ts): only the wake-latency cases, for profiling.
//
//   node --conditions=agentrix-source --expose-gc --import tsx bench/bus/wake-only.ts [rates] [repeats]
//   rates: comma list of messages/s (default 1000,5000,20000)
import { randomUUID } from 'node:crypto';
import { createRedisBus } from '@agentrix/bus';
import { summarize } from '../lib/stats.js';
import { startBenchRedis } from './redis-server.js';
import { wakeLatency } from './wake-latency.js';

const rates = (process.argv[2] ?? '1000,5000,20000').split(',').map(Number);
const repeats = Number(process.argv[3] ?? 1);
const redis = await startBenchRedis();
const bus = await createRedisBus({ url: redis.url, namespace: `wake-${randomUUID()}` });
for (const rate of rates) {
  for (let i = 0; i < repeats; i++) {
    const samples = await wakeLatency(bus, {
      agents: 100,
      rate,
      warmupMs: 500,
      durationMs: 3000,
      prefix: `w-${randomUUID()}`,
    });
    const s = summarize(samples);
    console.log(
      `${String(rate).padStart(6)}/s  n=${s.count}  p50 ${Math.round(s.median)} µs  p99 ${Math.round(s.p99)} µs  max ${Math.round(s.max)} µs`,
    );
  }
}
await bus.close();
await redis.stop();
