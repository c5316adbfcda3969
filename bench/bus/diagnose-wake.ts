// Diagnostic (not part of run.ts): where does the wake latency of RedisStreamsBus go?
// Splits send -> agent read into phases by wrapping the ioredis client, and records event-loop
// delay and GC pauses.
//
//   node --conditions=agentrix-source --expose-gc --import tsx bench/bus/diagnose-wake.ts [rate] [seconds]
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { createRedisBus } from '@agentrix/bus';
import type { Delivery } from '@agentrix/core';
import { Redis } from 'ioredis';
import { summarize } from '../lib/stats.js';
import { startBenchRedis } from './redis-server.js';

const rate = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 3);
const agentsCount = 100;

const redis = await startBenchRedis();
const client = new Redis(redis.url, { enableAutoPipelining: true });
const namespace = `diag-${randomUUID()}`;

interface Trace {
  send: number;
  sendReply?: number;
  wake?: number;
  readCall?: number;
  readReply?: number;
  deliver?: number;
}
/** inbox -> trace of the message currently travelling to it (one at a time per agent at low load). */
const traces = new Map<string, Trace>();
const done: Trace[] = [];
const inboxOfStream = (key: string) => /inbox:\{(.*)\}:stream$/.exec(key)?.[1];
let readSha = '';

const wrapped = new Proxy(client, {
  get(target, prop, receiver) {
    if (prop === 'evalsha') {
      return (sha: string, n: number, ...rest: Array<string | number>) => {
        const inbox = inboxOfStream(String(rest[0]));
        const trace = inbox === undefined ? undefined : traces.get(inbox);
        const started = performance.now();
        const isRead = rest.length > 3 && String(rest[1]).endsWith(':errors') && String(rest[2]).endsWith(':dead');
        if (isRead) readSha = sha;
        if (trace !== undefined && isRead && trace.wake !== undefined && trace.readCall === undefined)
          trace.readCall = started;
        const promise = target.evalsha(sha, n, ...rest) as Promise<unknown>;
        if (trace !== undefined && isRead && trace.readCall === started) {
          promise.then(() => {
            trace.readReply = performance.now();
          });
        }
        return promise;
      };
    }
    if (prop === 'duplicate') {
      return (override?: Record<string, unknown>) => {
        const sub = target.duplicate(override as never);
        sub.on('message', (channel: string) => {
          const inbox = channel.slice(channel.lastIndexOf(':') + 1);
          const trace = traces.get(inbox);
          if (trace !== undefined && trace.wake === undefined) trace.wake = performance.now();
        });
        return sub;
      };
    }
    const value = Reflect.get(target, prop, receiver);
    return typeof value === 'function' ? value.bind(target) : value;
  },
});

const bus = await createRedisBus({ client: wrapped as never, namespace });
const histogram = monitorEventLoopDelay({ resolution: 1 });
const gcPauses: number[] = [];
const gcKinds = new Map<number, number[]>();
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!measuring) continue;
    gcPauses.push(entry.duration);
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
    gcKinds.set(kind, [...(gcKinds.get(kind) ?? []), entry.duration]);
  }
}).observe({ entryTypes: ['gc'] });

const agents = Array.from({ length: agentsCount }, (_, i) => `a${i}`);
const controller = new AbortController();
setMaxListeners(0, controller.signal);
let measuring = false;
const loops = agents.map(async (agent) => {
  while (!controller.signal.aborted) {
    let deliveries: Delivery[];
    try {
      deliveries = await bus.read(agent, { consumer: 'bench', max: 1, signal: controller.signal });
    } catch {
      return;
    }
    const now = performance.now();
    const trace = traces.get(agent);
    if (trace !== undefined) {
      trace.deliver = now;
      traces.delete(agent);
      if (measuring) done.push(trace);
    }
    await bus.ack(
      agent,
      deliveries.map((d) => d.deliveryId),
    );
  }
});
await new Promise((r) => setTimeout(r, 300));
histogram.enable();
let sent = 0;
const start = performance.now();
measuring = true;
if (process.env.SNAP) {
  const { writeHeapSnapshot } = await import('node:v8');
  console.log('snapshot', writeHeapSnapshot(`/tmp/prof/start-${rate}.heapsnapshot`));
}
while (performance.now() - start < seconds * 1000) {
  const due = Math.floor(((performance.now() - start) * rate) / 1000);
  while (sent < due) {
    const agent = agents[sent++ % agents.length]!;
    const trace: Trace = { send: performance.now() };
    if (!traces.has(agent)) traces.set(agent, trace);
    void bus.send({ from: 'bench', to: agent, content: 'x' }).then(() => {
      trace.sendReply = performance.now();
    });
  }
  await new Promise((r) => setTimeout(r, 1));
}
await new Promise((r) => setTimeout(r, 300));
if (process.env.SNAP) {
  const { writeHeapSnapshot } = await import('node:v8');
  console.log('snapshot', writeHeapSnapshot(`/tmp/prof/end-${rate}.heapsnapshot`));
}
histogram.disable();
controller.abort();
await Promise.all(loops);

const phase = (name: string, pick: (t: Trace) => number | undefined) => {
  const values = done.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const s = summarize(Float64Array.from(values.map((v) => v * 1000)));
  console.log(
    `${name.padEnd(26)} n=${String(s.count).padStart(6)} p50=${s.median.toFixed(0).padStart(7)} p99=${s.p99.toFixed(0).padStart(7)} max=${s.max.toFixed(0).padStart(7)} µs`,
  );
};
console.log(`rate ${rate}/s, ${seconds}s, ${done.length} traced (read sha ${readSha.slice(0, 8)})`);
phase('send -> send reply', (t) => (t.sendReply ?? NaN) - t.send);
phase('send -> wake (pubsub)', (t) => (t.wake ?? NaN) - t.send);
phase('wake -> read issued', (t) => (t.readCall ?? NaN) - (t.wake ?? NaN));
phase('read issued -> reply', (t) => (t.readReply ?? NaN) - (t.readCall ?? NaN));
phase('read reply -> agent', (t) => (t.deliver ?? NaN) - (t.readReply ?? NaN));
phase('send -> agent (total)', (t) => (t.deliver ?? NaN) - t.send);
phase('total, no wake seen', (t) => (t.wake === undefined ? (t.deliver ?? NaN) - t.send : NaN));
console.log(
  `event loop delay: p50=${(histogram.percentile(50) / 1000).toFixed(0)} p99=${(histogram.percentile(99) / 1000).toFixed(0)} max=${(histogram.max / 1000).toFixed(0)} µs`,
);
gcPauses.sort((a, b) => a - b);
console.log(
  `gc: ${gcPauses.length} pauses, total ${gcPauses.reduce((a, b) => a + b, 0).toFixed(1)} ms, max ${(gcPauses.at(-1) ?? 0).toFixed(2)} ms`,
);
for (const [kind, list] of gcKinds)
  console.log(`  gc kind ${kind}: ${list.length} pauses, max ${Math.max(...list).toFixed(2)} ms`);
const heap = process.memoryUsage();
console.log(`heap used ${(heap.heapUsed / 1e6).toFixed(0)} MB, total ${(heap.heapTotal / 1e6).toFixed(0)} MB`);
await bus.close();
await client.quit();
await redis.stop();
