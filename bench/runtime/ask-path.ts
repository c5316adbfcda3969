import { AgentManager, createAgentrix, createToolSet, runTurn } from '@agentrix/runtime';
import { measureThroughput, sampleLatency } from '../lib/measure.js';
import { summarize } from '../lib/stats.js';
import { formatNumber, formatRatio, status, type Table } from '../lib/table.js';
import { addTool } from './add-tool.js';
import { withCpuTime } from './cpu-time.js';
import { InstantModel } from './instant-model.js';

const TARGET_MEDIAN_US = 10;
const TARGET_P99_US = 100;
const TARGET_PER_SECOND = 200_000;
/** Unmeasured time before each throughput row (`measureThroughput`'s default warm-up). */
const WARMUP_MS = 250;

export interface AskPathOptions {
  warmup: number;
  samples: number;
  /** Agents for the throughput rows (one ask in flight per agent, then `inFlightPerAgent`). */
  agents: number;
  inFlightPerAgent: number;
  durationMs: number;
}

/**
 * Section 4: `ask()` end to end in one process (host -> bus -> agent wakes -> 2-step turn with a
 * tool -> reply over the bus -> the asker's promise), the path a host, a channel or a
 * delegating agent takes; against `runTurn` alone, the same turn without any of it.
 */
export async function benchAskPath(options: AskPathOptions): Promise<Table> {
  const model = new InstantModel();
  const tools = createToolSet([addTool]);
  const messages = [{ role: 'user' as const, content: 'What is 2 + 3?' }];
  // Warm-up first, then CPU time over the measured runs only (the JIT compiles on threads of its own).
  const latency = async (run: () => Promise<unknown>) => {
    await sampleLatency(run, { warmup: options.warmup, samples: 0 });
    const { result, cpuUs } = await withCpuTime(run, (counted) =>
      sampleLatency(counted, { warmup: 0, samples: options.samples }),
    );
    return { ...summarize(result), cpuUs };
  };
  const throughput = async (run: () => Promise<unknown>, concurrency: number) => {
    await measureThroughput(run, { concurrency, durationMs: WARMUP_MS, warmupMs: 0 });
    const { result, cpuUs } = await withCpuTime(run, (counted) =>
      measureThroughput(counted, { concurrency, durationMs: options.durationMs, warmupMs: 0 }),
    );
    return { perSecond: result, cpuUs };
  };
  const direct = await latency(() => runTurn({ model, messages, tools, stream: true }));

  const manager = new AgentManager({ model, tools: [addTool] });
  const agentIds = Array.from({ length: options.agents }, (_, index) => `ask-agent-${index}`);
  // History off: each ask is the same 2-step turn, however many ran before (a fixed workload).
  for (const id of agentIds) await manager.create({ id, tools: ['add'], maxHistory: 0 });
  const first = agentIds[0]!;
  const ask = await latency(() => manager.ask(first, 'What is 2 + 3?'));
  const thread = await latency(() => manager.ask(first, 'What is 2 + 3?', { threadId: 'chat:1' }));
  const roundRobin = () => {
    let next = 0;
    return () => manager.ask(agentIds[next++ % agentIds.length]!, 'What is 2 + 3?');
  };
  const spread = await throughput(roundRobin(), options.agents);
  const pipelined = await throughput(roundRobin(), options.agents * options.inFlightPerAgent);
  const turns = manager.list().reduce((sum, agent) => sum + agent.turns, 0);
  await manager.close();

  // The same through the composition root, as the README composes: the tool runs through the
  // SkillExecutor (the one tool pipeline) and the bus through the lifecycle wrapper.
  const composed = await createAgentrix({ model, tools: [addTool] });
  await composed.create({ id: 'composed', tools: ['add'], maxHistory: 0 });
  const viaRoot = await latency(() => composed.ask('composed', 'What is 2 + 3?'));
  await composed.close();

  const n = options.agents;
  const latencyRow = (row: string, summary: typeof direct, target: string, met: boolean | undefined) => [
    row,
    formatNumber(summary.median, 2),
    formatRatio(summary.median, direct.median),
    formatNumber(summary.p99, 2),
    formatRatio(summary.p99, direct.p99),
    formatNumber(summary.cpuUs, 2),
    '-',
    target,
    status(met),
  ];
  const throughputRow = (
    row: string,
    measured: typeof spread,
    at: number,
    target: string,
    met: boolean | undefined,
  ) => [
    row,
    '-',
    '-',
    '-',
    '-',
    formatNumber(measured.cpuUs, 2),
    `${formatNumber(measured.perSecond)} @${formatNumber(at)}`,
    target,
    status(met),
  ];
  return {
    title: `4. ask() end to end (host -> bus -> 2-step turn -> reply -> the asker; ${formatNumber(options.samples)} samples after ${formatNumber(options.warmup)} warm-up)`,
    headers: ['row', 'median µs', 'ratio', 'p99 µs', 'ratio', 'CPU µs/ask', 'asks/s', 'target', 'status'],
    rows: [
      latencyRow('runTurn alone, stream (baseline)', direct, '-', undefined),
      latencyRow(
        'ask(), one agent',
        ask,
        `median <= ${TARGET_MEDIAN_US} µs, p99 <= ${TARGET_P99_US} µs`,
        ask.median <= TARGET_MEDIAN_US && ask.p99 <= TARGET_P99_US,
      ),
      latencyRow('  same, through createAgentrix', viaRoot, '-', undefined),
      latencyRow('  same, in a thread of its own', thread, '-', undefined),
      throughputRow(
        `ask() across ${n} agents, 1 in flight each`,
        spread,
        n,
        `>= ${formatNumber(TARGET_PER_SECOND)}/s`,
        spread.perSecond >= TARGET_PER_SECOND,
      ),
      throughputRow(
        `  same, ${options.inFlightPerAgent} in flight each`,
        pipelined,
        n * options.inFlightPerAgent,
        '-',
        undefined,
      ),
    ],
    notes: [
      `The spec's defaults but history off (maxHistory 0), in-memory bus, contexts and registry; the model answers at once with`,
      `a tool call, then with the final text. ${formatNumber(turns)} turns ran in all. CPU µs/ask: the process's user + system`,
      "time per run over the same runs (every thread, so the garbage collector's helpers too); wall time on a shared machine also",
      'waits for other programs.',
    ],
  };
}
