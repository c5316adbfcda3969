// Diagnostic (not part of run.ts): what the slow wake-ups at a fixed load are made of.
//
//   node --conditions=agentrix-source --expose-gc --import tsx bench/bus/wake-causes.ts [rate] [slowMs]
//
// 100 agents blocked on their inboxes, 1 s at 5,000 msg/s (warmup), then 6 s at `rate` (default
// 20,000); the last 4 s are counted. Every wake-up slower than `slowMs` (default 2) is put in the
// first class whose event overlaps it (from 3 ms before its send, so a message queued behind a
// stall counts for that stall): a GC pause of Node (PerformanceObserver 'gc'), a pacer tick in
// which Node's main thread waited more than 0.5 ms for a CPU, one in which redis-server's did
// (the run_delay field of /proc/<pid>/schedstat), else "other". Reading /proc costs two system
// calls per millisecond, so the latencies here run a little above wake-only.ts's. Meaningful only
// while the p50 stays near its quiet value: in a backlog a wake-up that waits hundreds of ms
// overlaps every kind of event and counts for the first class.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { createRedisBus } from '@agentrix/bus';
import { Redis } from 'ioredis';
import { readAckLoop } from './agent-loop.js';
import { startBenchRedis } from './redis-server.js';

type Span = [start: number, end: number];

const rate = Number(process.argv[2] ?? 20000);
const slowMs = Number(process.argv[3] ?? 2);
const redis = await startBenchRedis();
const bus = await createRedisBus({ url: redis.url, namespace: `wake-${randomUUID()}` });
const probe = new Redis(redis.url);
const redisPid = Number(/process_id:(\d+)/.exec(await probe.info('server'))?.[1]);
await probe.quit();

/** Milliseconds the thread has spent runnable but waiting for a CPU, so far. */
const runDelay = (pid: number | 'self') => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;

const minorGcs: Span[] = [];
const majorGcs: Span[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    (kind === 1 ? minorGcs : majorGcs).push([entry.startTime, entry.startTime + entry.duration]);
  }
});
gcObserver.observe({ entryTypes: ['gc'] });

const prefix = `c-${randomUUID()}`;
const agents = Array.from({ length: 100 }, (_, index) => `${prefix}-agent-${index}`);
const controllers = agents.map(() => new AbortController());
// Preallocated: arrays grown by push would be the largest thing the heap holds, and their copies
// would add major GCs of their own.
const capacity = 5000 + rate * 6 + 1000;
const sentAt = new Float64Array(capacity);
const readAt = new Float64Array(capacity);
let received = 0;
const loops = agents.map((agent, index) =>
  readAckLoop(bus, agent, {
    max: 1,
    signal: controllers[index]!.signal,
    onRead: (deliveries) => {
      const now = performance.now();
      for (const delivery of deliveries) {
        sentAt[received] = Number(delivery.envelope.content);
        readAt[received++] = now;
      }
    },
  }),
);
await new Promise((resolve) => setTimeout(resolve, 200));

const nodeWaits: Span[] = [];
const redisWaits: Span[] = [];
let nodeDelay = runDelay('self');
let redisDelay = runDelay(redisPid);
let sent = 0;
const start = performance.now();
const countFrom = start + 3000;
let last = start;
while (performance.now() < start + 7000) {
  const now = performance.now();
  const node = runDelay('self');
  const server = runDelay(redisPid);
  if (node - nodeDelay > 0.5) nodeWaits.push([last, now]);
  if (server - redisDelay > 0.5) redisWaits.push([last, now]);
  nodeDelay = node;
  redisDelay = server;
  last = now;
  const due = now < start + 1000 ? (now - start) * 5 : 5000 + ((now - start - 1000) * rate) / 1000;
  while (sent < due)
    bus.send({ from: 'bench', to: agents[sent++ % agents.length]!, content: String(performance.now()) });
  await new Promise((resolve) => setTimeout(resolve, 1));
}
await new Promise((resolve) => setTimeout(resolve, 300));
for (const controller of controllers) controller.abort();
await Promise.all(loops);
gcObserver.disconnect();

const overlaps = (from: number, to: number, spans: Span[]) => spans.some(([s, e]) => s < to && e > from);
const classes = { majorGc: 0, scavenge: 0, nodeWaitedForCpu: 0, redisWaitedForCpu: 0, other: 0 };
let counted = 0;
const latencies = new Float64Array(received);
let measured = 0;
for (let index = 0; index < received; index++) {
  if (sentAt[index]! < countFrom) continue;
  counted++;
  const latency = readAt[index]! - sentAt[index]!;
  latencies[measured++] = latency;
  if (latency <= slowMs) continue;
  const from = sentAt[index]! - 3;
  const to = readAt[index]!;
  if (overlaps(from, to, majorGcs)) classes.majorGc++;
  else if (overlaps(from, to, minorGcs)) classes.scavenge++;
  else if (overlaps(from, to, nodeWaits)) classes.nodeWaitedForCpu++;
  else if (overlaps(from, to, redisWaits)) classes.redisWaitedForCpu++;
  else classes.other++;
}
const sorted = latencies.subarray(0, measured).sort();
const inWindow = (spans: Span[]) => spans.filter(([s]) => s >= countFrom);
const total = (spans: Span[]) => inWindow(spans).reduce((sum, [s, e]) => sum + e - s, 0);
console.log(
  `${rate}/s  n=${counted}  p50 ${sorted[Math.floor(counted / 2)]!.toFixed(2)} ms  p99 ${sorted[Math.floor(counted * 0.99)]!.toFixed(2)} ms  load ${loadavg()[0]!.toFixed(2)}`,
);
const slow = sorted.filter((latency) => latency > slowMs).length;
console.log(`slower than ${slowMs} ms: ${slow} (${((100 * slow) / counted).toFixed(2)}%)`, classes);
console.log(
  `in the counted 4 s: scavenges ${inWindow(minorGcs).length} (${total(minorGcs).toFixed(1)} ms), major GCs ${inWindow(majorGcs).length} (${total(majorGcs).toFixed(1)} ms); ms ticks with a CPU wait > 0.5 ms: Node ${inWindow(nodeWaits).length}, Redis ${inWindow(redisWaits).length}`,
);
await Promise.all(agents.map((agent) => bus.deleteInbox(agent)));
await bus.close();
await redis.stop();
