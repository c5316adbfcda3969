// Diagnostic (not part of run.ts): only the wake-latency cases, for profiling and A/B runs.
// Prints p50 / p99 / max from send to the reader's delivery, with the CPU per message of Node
// and redis-server over the whole run (warmup included), how many socket reads and writes Redis
// made per message (how well messages share a write) and the load average.
//
//   node --conditions=agentrix-source --expose-gc --import tsx bench/bus/wake-only.ts [rates] [repeats] [sender]
//   rates: comma list of messages/s (default 1000,5000,20000)
//   sender: `here` (default: in this process, as run.ts's first Redis rows) or `process` (a process
//   of its own; then the Node CPU is this process's, the readers', alone)
//   WAKE_GC=1: three forced full GCs before each run (run.ts's wake rows did that until session 11);
//   WAKE_GC=settle: what run.ts's wake rows do since: three forced GCs, then one unreported run at
//   the rate, then the runs with none between them
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { createRedisBus } from '@agentrix/bus';
import { summarize } from '../lib/stats.js';
import { startBenchRedis } from './redis-server.js';
import { RedisServerCpu } from './server-cpu.js';
import { wakeLatency } from './wake-latency.js';

const rates = (process.argv[2] ?? '1000,5000,20000').split(',').map(Number);
const repeats = Number(process.argv[3] ?? 1);
const senderHere = (process.argv[4] ?? 'here') === 'here';
const warmupMs = 500;
const durationMs = 3000;
const redis = await startBenchRedis();
const namespace = `wake-${randomUUID()}`;
const bus = await createRedisBus({ url: redis.url, namespace });
const serverCpu = new RedisServerCpu(redis.url);
const forceGc = process.env.WAKE_GC === '1';
const settle = process.env.WAKE_GC === 'settle';
// Mark-compacts and scavenges during each run, with the longest pause of each kind.
const gcs = { majors: 0, majorMaxMs: 0, minors: 0, minorMaxMs: 0 };
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as unknown as { detail?: { kind: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
      gcs.majors++;
      gcs.majorMaxMs = Math.max(gcs.majorMaxMs, entry.duration);
    } else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
      gcs.minors++;
      gcs.minorMaxMs = Math.max(gcs.minorMaxMs, entry.duration);
    }
  }
});
observer.observe({ entryTypes: ['gc'] });
/** One run's options: 100 agents at `rate`, fresh inboxes. */
const wakeOptions = (rate: number) => ({
  agents: 100,
  rate,
  warmupMs,
  durationMs,
  prefix: `w-${randomUUID()}`,
  senderProcess: senderHere ? undefined : { url: redis.url, namespace },
});
for (const rate of rates) {
  if (settle) {
    for (let gc = 0; gc < 3; gc++) (globalThis as { gc?: () => void }).gc?.();
    await wakeLatency(bus, wakeOptions(rate));
  }
  for (let i = 0; i < repeats; i++) {
    if (forceGc) for (let gc = 0; gc < 3; gc++) (globalThis as { gc?: () => void }).gc?.();
    // The forced GCs' entries arrive after this (observers are called later): let them.
    await new Promise((resolve) => setTimeout(resolve, 20));
    Object.assign(gcs, { majors: 0, majorMaxMs: 0, minors: 0, minorMaxMs: 0 });
    const nodeBefore = process.cpuUsage();
    const redisBefore = await serverCpu.micros();
    const callsBefore = await serverCpu.socketCalls();
    const samples = await wakeLatency(bus, wakeOptions(rate));
    const redisMicros = (await serverCpu.micros()) - redisBefore;
    const calls = await serverCpu.socketCalls();
    const node = process.cpuUsage(nodeBefore);
    // Messages sent over the run, warmup included (the CPU covers it too).
    const messages = (rate * (warmupMs + durationMs)) / 1000;
    const s = summarize(samples);
    console.log(
      `${senderHere ? '' : 'sender process '}${String(rate).padStart(6)}/s  n=${s.count}  p50 ${Math.round(s.median)} µs  p99 ${Math.round(s.p99)} µs  max ${Math.round(s.max)} µs  node ${((node.user + node.system) / messages).toFixed(1)} µs/msg  redis ${(redisMicros / messages).toFixed(1)} µs/msg  socket reads ${((calls.reads - callsBefore.reads) / messages).toFixed(2)} writes ${((calls.writes - callsBefore.writes) / messages).toFixed(2)} /msg  GC ${gcs.majors} major (max ${gcs.majorMaxMs.toFixed(1)} ms) ${gcs.minors} minor (max ${gcs.minorMaxMs.toFixed(1)} ms)  load ${loadavg()[0]!.toFixed(2)}`,
    );
  }
}
observer.disconnect();
await serverCpu.close();
await bus.close();
await redis.stop();
