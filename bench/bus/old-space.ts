// Diagnostic (not part of run.ts): what the bus puts into V8's old space per message, the garbage
// that makes mark-compacts (each one a wake-latency tail of 2-15 ms at 20k msg/s). Prints per
// message the growth of old space (old + large-object spaces) over a run, split into what GCs
// moved there (promotion: growth across each GC, from `v8.GCProfiler`) and what was allocated
// there directly (the rest: strings V8 keeps in its number-to-string cache, the new tables of
// long-lived Sets and Maps that rehash), and external (ArrayBuffer) memory.
//
//   node --conditions=agentrix-source --expose-gc --initial-old-space-size=1024 --import tsx \
//     bench/bus/old-space.ts [rate] [repeats] [bus] [workload]
//   rate: messages/s of the wake workload (default 20000); bus: `redis` (default) or `memory`
//   workload: `wake` (default: 100 agents blocked on their inboxes, as wake-only.ts), `fixed`
//   (70,000 messages as fast as they go, as allocation.ts), `send-only` (sends nobody reads)
//
// `--initial-old-space-size=1024` keeps mark-compacts out of the window (the growth is then all
// of it). Each run starts after one full GC, as a long-running host has had: it moves every live
// young object to old space, the tables of long-lived Sets and Maps included (from then on V8
// allocates their rehashed tables in old space). Counts, not timings: no bench lock needed, but
// a run that falls behind its rate (a loaded machine) promotes more.
import { randomUUID } from 'node:crypto';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { createInMemoryBus, createRedisBus } from '@agentrix/bus';
import { summarize } from '../lib/stats.js';
import { deliverFixedCount } from './fixed-count.js';
import { startBenchRedis } from './redis-server.js';
import { wakeLatency } from './wake-latency.js';
import { paceSends } from './wake-pacer.js';

const rate = Number(process.argv[2] ?? 20_000);
const repeats = Number(process.argv[3] ?? 3);
const busKind = process.argv[4] ?? 'redis';
const workload = process.argv[5] ?? 'wake';
const warmupMs = 500;
const durationMs = 3000;
/** Messages of the fixed workload: about as many as the wake workload sends at 20k/s. */
const FIXED_MESSAGES = 70_000;

interface SpaceStatistics {
  spaceName: string;
  spaceUsedSize: number;
}

function isOld(name: string): boolean {
  return name === 'old_space' || name === 'large_object_space';
}

function oldBytes(): number {
  let total = 0;
  for (const space of v8.getHeapSpaceStatistics()) if (isOld(space.space_name)) total += space.space_used_size;
  return total;
}

function oldOf(spaces: SpaceStatistics[]): number {
  let total = 0;
  for (const space of spaces) if (isOld(space.spaceName)) total += space.spaceUsedSize;
  return total;
}

let majors = 0;
let minors = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as unknown as { detail?: { kind: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
    else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minors++;
  }
});
observer.observe({ entryTypes: ['gc'] });

const redis = await startBenchRedis();
const bus =
  busKind === 'memory'
    ? createInMemoryBus()
    : await createRedisBus({ url: redis.url, namespace: `old-space-${randomUUID()}` });
try {
  // Warm-up (JIT, subscriptions).
  await wakeLatency(bus, { agents: 100, rate, warmupMs, durationMs: 1500, prefix: `w-${randomUUID()}` });
  for (let run = 0; run < repeats; run++) {
    (globalThis as { gc?: () => void }).gc?.();
    // The forced GC's entry arrives after this (observers are called later): let it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    majors = 0;
    minors = 0;
    const profiler = new v8.GCProfiler();
    profiler.start();
    const before = oldBytes();
    const externalBefore = v8.getHeapStatistics().external_memory;
    let messages: number;
    let latency = '';
    if (workload === 'fixed') {
      await deliverFixedCount(bus, FIXED_MESSAGES, `f-${randomUUID()}`);
      messages = FIXED_MESSAGES;
    } else if (workload === 'send-only') {
      const inboxes = Array.from({ length: 100 }, (_, index) => `s-${randomUUID()}-${index}`);
      messages = await paceSends(bus, inboxes, rate, warmupMs + durationMs);
      await Promise.all(inboxes.map((inbox) => bus.deleteInbox(inbox)));
    } else {
      const samples = await wakeLatency(bus, { agents: 100, rate, warmupMs, durationMs, prefix: `w-${randomUUID()}` });
      messages = (rate * (warmupMs + durationMs)) / 1000;
      const s = summarize(samples);
      latency = `  p50 ${Math.round(s.median)} p99 ${Math.round(s.p99)} max ${Math.round(s.max)} µs`;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const grown = oldBytes() - before;
    const external = v8.getHeapStatistics().external_memory - externalBefore;
    const profile = profiler.stop() as unknown as {
      statistics: Array<{
        beforeGC: { heapSpaceStatistics: SpaceStatistics[] };
        afterGC: { heapSpaceStatistics: SpaceStatistics[] };
      }>;
    };
    let promoted = 0;
    for (const gc of profile.statistics) {
      promoted += oldOf(gc.afterGC.heapSpaceStatistics) - oldOf(gc.beforeGC.heapSpaceStatistics);
    }
    const perMessage = (bytes: number) => Math.round(bytes / messages);
    console.log(
      `${busKind} ${workload}: old space +${perMessage(grown)} B/msg (by GCs ${perMessage(promoted)}, directly ${perMessage(grown - promoted)}), external ${perMessage(external)} B/msg, ${majors} mark-compacts, ${minors} scavenges${latency}`,
    );
  }
} finally {
  observer.disconnect();
  await bus.close();
  await redis.stop();
}
