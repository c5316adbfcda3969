// The sender of the wake benches (`wakeLatency({ senderProcess })`, wake-split.ts), in a process of its
// own (forked): sends `rate` messages/s round-robin to the agents for the time it is told, each carrying
// the system-wide monotonic clock at its send (`process.hrtime`), and reports its CPU time and GC pauses.
import { randomUUID } from 'node:crypto';
import { PerformanceObserver } from 'node:perf_hooks';
import { createRedisBus } from '@agentrix/bus';
import { monotonicMs } from './monotonic.js';
import { paceSends } from './wake-pacer.js';

interface Start {
  url: string;
  namespace: string;
  agents: string[];
  rate: number;
  ms: number;
}

const start = await new Promise<Start>((resolve) => process.once('message', (message) => resolve(message as Start)));
const bus = await createRedisBus({ url: start.url, namespace: start.namespace, consumer: `sender-${randomUUID()}` });
const gcs: Array<[number, number]> = [];
// performance.now() and process.hrtime count from the same monotonic clock, offset by this much.
const offset = monotonicMs() - performance.now();
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries())
    gcs.push([entry.startTime + offset, entry.startTime + offset + entry.duration]);
});
observer.observe({ entryTypes: ['gc'] });
process.send?.('ready');
await new Promise((resolve) => process.once('message', resolve));

const cpuBefore = process.cpuUsage();
// When the sends start, on the clock every process shares (the readers count their warmup from it).
process.send?.({ began: monotonicMs() });
let failure: string | undefined;
const sent = await paceSends(bus, start.agents, start.rate, start.ms).catch((error: unknown) => {
  failure = String(error);
  return 0;
});
const cpu = process.cpuUsage(cpuBefore);
observer.disconnect();
await bus.close();
process.send?.({ sent, cpuMicros: cpu.user + cpu.system, gcs, failure });
process.disconnect();
