import { InMemoryBus } from '@agentrix/bus';
import { createAgentrix } from '@agentrix/runtime';
import { collectGarbage, pause } from '../lib/measure.js';
import { formatNumber, formatRatio, status, type Table } from '../lib/table.js';
import { InstantModel } from './instant-model.js';

const TARGET_TOTAL_MIB = 40;
const MIB = 1024 * 1024;

export interface IdleAgentsOptions {
  agents: number;
  /** How long to let every agent reach its blocked read. */
  settleMs: number;
}

function heapUsed(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** The heap that `count` bare blocked `bus.read` calls hold (one per inbox), with or without an AbortSignal each. */
async function blockedReads(count: number, withSignal: boolean): Promise<number> {
  const bus = new InMemoryBus();
  const before = heapUsed();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const options = withSignal ? { consumer: 'bench', signal: new AbortController().signal } : { consumer: 'bench' };
    pending.push(bus.read(`idle-${i}`, options));
  }
  await pause(10);
  const after = heapUsed();
  await bus.close();
  await Promise.all(pending);
  return after - before;
}

/** Section 3: the heap of many started, blocked, idle agents, against bare blocked reads. */
export async function benchIdleAgents(options: IdleAgentsOptions): Promise<Table> {
  const { agents } = options;
  const bareReads = await blockedReads(agents, false);
  const signalReads = await blockedReads(agents, true);

  const manager = await createAgentrix({ model: new InstantModel() });
  // Warm the code paths with one agent so compiled code is not counted as per-agent heap.
  await manager.create({ id: 'warm-up' });
  await pause(10);
  await manager.terminate('warm-up');
  const before = heapUsed();
  const createStarted = performance.now();
  for (let i = 0; i < agents; i++) await manager.create({ id: `idle-agent-${i}` });
  const createMs = performance.now() - createStarted;
  await pause(options.settleMs);
  const after = heapUsed();
  const idle = manager.list({ state: 'idle' }).length;
  let blocked = 0;
  for (let i = 0; i < agents; i++) {
    const stats = await manager.bus.stats(`idle-agent-${i}`);
    if (stats.unread === 0 && stats.inFlight === 0) blocked++;
  }
  const closeStarted = performance.now();
  await manager.close();
  const closeMs = performance.now() - closeStarted;
  const agentHeap = after - before;

  const row = (name: string, bytes: number, target: boolean | undefined) => [
    name,
    formatNumber(bytes / MIB, 2),
    formatNumber(bytes / agents / 1024, 2),
    formatRatio(bytes, bareReads),
    target === undefined ? '-' : `<= ${TARGET_TOTAL_MIB} MiB (<= 4 KiB each)`,
    status(target),
  ];
  return {
    title: `3. ${formatNumber(agents)} live idle agents (heapUsed after gc, before/after)`,
    headers: ['row', 'total MiB', 'KiB each', 'ratio', 'target', 'status'],
    rows: [
      row(`${formatNumber(agents)} bare blocked bus.read (baseline)`, bareReads, undefined),
      row(`  same, each with an AbortSignal`, signalReads, undefined),
      row(`${formatNumber(agents)} idle agents on one manager`, agentHeap, agentHeap / MIB <= TARGET_TOTAL_MIB),
    ],
    notes: [
      `${formatNumber(idle)} of ${formatNumber(agents)} agents idle, ${formatNumber(blocked)} with an empty inbox; created and started in ${formatNumber(createMs)} ms, manager.close() took ${formatNumber(closeMs)} ms.`,
    ],
  };
}
