// Diagnostic (not part of run.ts): wake latency with the sender in this process ("one", as
// wake-only.ts and run.ts measure it) or in a process of its own ("split", as a host's ingress or
// another machine sends), and what the slow wake-ups overlapped.
//
//   node --conditions=agentrix-source --expose-gc --import tsx bench/bus/wake-split.ts [rate] [modes] [slowMs]
//   modes: comma list of one, split, run in turn (default one,split,one,split)
//   ALLOCATION=1: also the bytes this process (the readers) allocates per message, by function
//   (V8's sampling heap profiler; slows the run, so its latencies do not count)
//
// 100 agents blocked on their inboxes in this process; `rate` messages/s (default 20,000) for
// 4.5 s, the first 1 s not counted. Send and delivery times are read from the system-wide
// monotonic clock. Prints p50 / p99 / max, the CPU per message of this process (the readers), of
// the sender process and of redis-server, this process's event-loop utilisation and delay, and
// sorts the wake-ups slower than `slowMs` (default 2) by the first thing that overlapped them
// (from 3 ms before the send to the delivery): a GC pause of the readers (mark-compact, then
// scavenge), one of the sender process (split only), a millisecond in which the readers' main
// thread, the sender's or redis-server waited more than 0.5 ms for a CPU (/proc/<pid>/schedstat),
// else "other".
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { createRedisBus } from '@agentrix/bus';
import type { MessageBus } from '@agentrix/core';
import { Redis } from 'ioredis';
import { readAckLoop } from './agent-loop.js';
import { startHeapSampling } from './heap-sampling.js';
import { monotonicMs } from './monotonic.js';
import { startBenchRedis } from './redis-server.js';
import { startSenderProcess } from './sender-process.js';
import { RedisServerCpu } from './server-cpu.js';
import { paceSends } from './wake-pacer.js';

type Span = [start: number, end: number];

const rate = Number(process.argv[2] ?? 20_000);
const modes = (process.argv[3] ?? 'one,split,one,split').split(',');
const slowMs = Number(process.argv[4] ?? 2);
const RUN_MS = 4_500;
const SKIP_MS = 1_000;

const redis = await startBenchRedis();
const namespace = `split-${randomUUID()}`;
const bus = await createRedisBus({ url: redis.url, namespace });
const serverCpu = new RedisServerCpu(redis.url);
const probe = new Redis(redis.url);
const redisPid = Number(/process_id:(\d+)/.exec(await probe.info('server'))?.[1]);
await probe.quit();

/** Milliseconds the thread has spent runnable but waiting for a CPU, so far. */
const runDelay = (pid: number | 'self') => {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
  } catch {
    return 0;
  }
};

for (const mode of modes) await measure(mode === 'split');
await serverCpu.close();
await bus.close();
await redis.stop();

async function measure(split: boolean): Promise<void> {
  const prefix = `s-${randomUUID()}`;
  const agents = Array.from({ length: 100 }, (_, index) => `${prefix}-agent-${index}`);
  const controllers = agents.map(() => new AbortController());
  const capacity = rate * 6;
  const sentAt = new Float64Array(capacity);
  const readAt = new Float64Array(capacity);
  let received = 0;
  const loops = agents.map((agent, index) =>
    readAckLoop(bus, agent, {
      max: 1,
      signal: controllers[index]!.signal,
      onRead: (deliveries) => {
        const now = monotonicMs();
        for (const delivery of deliveries) {
          sentAt[received] = Number(delivery.envelope.content);
          readAt[received++] = now;
        }
      },
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));

  const offset = monotonicMs() - performance.now();
  const readerMajor: Span[] = [];
  const readerMinor: Span[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      const span: Span = [entry.startTime + offset, entry.startTime + offset + entry.duration];
      (kind === 1 ? readerMinor : readerMajor).push(span);
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });

  const sender = split ? await startSenderProcess({ url: redis.url, namespace, agents, rate, ms: RUN_MS }) : undefined;
  const senderPid = sender?.pid ?? -1;

  // CPU waits, sampled every millisecond by a timer of this process.
  const waits = { reader: [] as Span[], sender: [] as Span[], redis: [] as Span[] };
  const last = { at: monotonicMs(), reader: runDelay('self'), sender: runDelay(senderPid), redis: runDelay(redisPid) };
  let sampling = true;
  const sample = () => {
    const now = monotonicMs();
    const reader = runDelay('self');
    const server = runDelay(redisPid);
    const senderDelay = split ? runDelay(senderPid) : 0;
    if (reader - last.reader > 0.5) waits.reader.push([last.at, now]);
    if (server - last.redis > 0.5) waits.redis.push([last.at, now]);
    if (senderDelay - last.sender > 0.5) waits.sender.push([last.at, now]);
    Object.assign(last, { at: now, reader, redis: server, sender: senderDelay });
    if (sampling) setTimeout(sample, 1);
  };

  const heap = process.env.ALLOCATION === '1' ? await startReadersSampling() : undefined;
  const began = monotonicMs();
  // The sender process's own start, when there is one (it starts a moment after it is told to).
  let countFrom = began + SKIP_MS;
  const cpuBefore = process.cpuUsage();
  const redisBefore = await serverCpu.micros();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  let eluBefore = performance.eventLoopUtilization();
  let senderGcs: Span[] = [];
  let senderCpu = 0;
  let sent: number;
  setTimeout(() => {
    delay.enable();
    eluBefore = performance.eventLoopUtilization();
  }, SKIP_MS);
  setTimeout(sample, 1);
  if (sender !== undefined) {
    const report = await sender.run((senderBegan) => {
      countFrom = senderBegan + SKIP_MS;
    });
    sent = report.sent;
    senderGcs = report.gcs;
    senderCpu = report.cpuMicros;
  } else {
    sent = await paceSends(bus as MessageBus, agents, rate, RUN_MS);
  }
  while (received < sent) await new Promise((resolve) => setTimeout(resolve, 5));
  sampling = false;
  delay.disable();
  if (heap !== undefined) await heap.print(sent);
  const elu = performance.eventLoopUtilization(eluBefore);
  const cpu = process.cpuUsage(cpuBefore);
  const redisMicros = (await serverCpu.micros()) - redisBefore;
  gcObserver.disconnect();
  for (const controller of controllers) controller.abort();
  await Promise.all(loops);
  await Promise.all(agents.map((agent) => bus.deleteInbox(agent)));

  const overlaps = (from: number, to: number, spans: Span[]) => spans.some(([s, e]) => s < to && e > from);
  const classes = {
    readerMajorGc: 0,
    readerScavenge: 0,
    senderGc: 0,
    readerWaitedForCpu: 0,
    senderWaitedForCpu: 0,
    redisWaitedForCpu: 0,
    other: 0,
  };
  const latencies = new Float64Array(received);
  let counted = 0;
  for (let index = 0; index < received; index++) {
    if (sentAt[index]! < countFrom) continue;
    const latency = readAt[index]! - sentAt[index]!;
    latencies[counted++] = latency;
    if (latency <= slowMs) continue;
    const from = sentAt[index]! - 3;
    const to = readAt[index]!;
    if (overlaps(from, to, readerMajor)) classes.readerMajorGc++;
    else if (overlaps(from, to, readerMinor)) classes.readerScavenge++;
    else if (overlaps(from, to, senderGcs)) classes.senderGc++;
    else if (overlaps(from, to, waits.reader)) classes.readerWaitedForCpu++;
    else if (overlaps(from, to, waits.sender)) classes.senderWaitedForCpu++;
    else if (overlaps(from, to, waits.redis)) classes.redisWaitedForCpu++;
    else classes.other++;
  }
  const sorted = latencies.subarray(0, counted).sort();
  const at = (q: number) => sorted[Math.min(counted - 1, Math.floor(counted * q))]!;
  const slow = sorted.filter((latency) => latency > slowMs).length;
  const inWindow = (spans: Span[]) => spans.filter(([s]) => s >= countFrom);
  const sum = (spans: Span[]) => inWindow(spans).reduce((total, [s, e]) => total + e - s, 0);
  const messages = sent;
  console.log(
    `${split ? 'split' : 'one  '} ${rate}/s n=${counted} p50 ${at(0.5).toFixed(2)} p99 ${at(0.99).toFixed(2)} max ${sorted[counted - 1]!.toFixed(2)} ms | µs/msg readers ${((cpu.user + cpu.system) / messages).toFixed(1)}${split ? ` sender ${(senderCpu / messages).toFixed(1)}` : ''} redis ${(redisMicros / messages).toFixed(1)} | readers ELU ${elu.utilization.toFixed(2)} loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(2)} ms | load ${loadavg()[0]!.toFixed(2)}`,
  );
  console.log(
    `      slow (> ${slowMs} ms) ${slow} (${((100 * slow) / counted).toFixed(2)}%) ${JSON.stringify(classes)} | readers: scavenges ${inWindow(readerMinor).length} (${sum(readerMinor).toFixed(1)} ms) major ${inWindow(readerMajor).length} (${sum(readerMajor).toFixed(1)} ms)${split ? `; sender GCs ${inWindow(senderGcs).length} (${sum(senderGcs).toFixed(1)} ms)` : ''}; CPU-wait ms: readers ${inWindow(waits.reader).length} sender ${inWindow(waits.sender).length} redis ${inWindow(waits.redis).length}`,
  );
}

/** V8's sampling heap profiler over the run; `print` lists the bytes per message of the 15 largest functions. */
async function startReadersSampling(): Promise<{ print(messages: number): Promise<void> }> {
  const sampling = await startHeapSampling(4096);
  return {
    async print(messages: number) {
      const { total, sites } = await sampling.stop();
      console.log(`      readers allocated ${Math.round(total / messages)} B/msg:`);
      for (const [name, size] of sites.slice(0, 15)) {
        console.log(`      ${String(Math.round(size / messages)).padStart(6)} B  ${name}`);
      }
    },
  };
}
