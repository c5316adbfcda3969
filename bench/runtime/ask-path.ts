import { AgentManager, createAgentrix, createToolSet, runTurn } from '@agentrix/runtime';
import { measureThroughput, sampleLatency } from '../lib/measure.js';
import { summarize } from '../lib/stats.js';
import { formatNumber, formatRatio, status, type Table } from '../lib/table.js';
import { addTool } from './add-tool.js';
import { InstantModel } from './instant-model.js';

const TARGET_MEDIAN_US = 10;
const TARGET_P99_US = 100;
const TARGET_PER_SECOND = 200_000;

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
  const direct = () => runTurn({ model, messages, tools, stream: true });
  const directSummary = summarize(await sampleLatency(direct, options));

  const manager = new AgentManager({ model, tools: [addTool] });
  const agentIds = Array.from({ length: options.agents }, (_, index) => `ask-agent-${index}`);
  // History off: each ask is the same 2-step turn, however many ran before (a fixed workload).
  for (const id of agentIds) await manager.create({ id, tools: ['add'], maxHistory: 0 });
  const first = agentIds[0]!;
  const askOne = () => manager.ask(first, 'What is 2 + 3?');
  const askSummary = summarize(await sampleLatency(askOne, options));
  const threadSummary = summarize(
    await sampleLatency(() => manager.ask(first, 'What is 2 + 3?', { threadId: 'chat:1' }), options),
  );
  const perSecond = await measureThroughput(
    (() => {
      let next = 0;
      return () => manager.ask(agentIds[next++ % agentIds.length]!, 'What is 2 + 3?');
    })(),
    { concurrency: options.agents, durationMs: options.durationMs },
  );
  const pipelinedPerSecond = await measureThroughput(
    (() => {
      let next = 0;
      return () => manager.ask(agentIds[next++ % agentIds.length]!, 'What is 2 + 3?');
    })(),
    { concurrency: options.agents * options.inFlightPerAgent, durationMs: options.durationMs },
  );
  const turns = manager.list().reduce((sum, agent) => sum + agent.turns, 0);
  await manager.close();

  // The same through the composition root, as the README composes: the tool runs through the
  // SkillExecutor (the one tool pipeline) and the bus through the lifecycle wrapper.
  const composed = await createAgentrix({ model, tools: [addTool] });
  await composed.create({ id: 'composed', tools: ['add'], maxHistory: 0 });
  const composedSummary = summarize(await sampleLatency(() => composed.ask('composed', 'What is 2 + 3?'), options));
  await composed.close();

  const n = options.agents;
  return {
    title: `4. ask() end to end (host -> bus -> 2-step turn -> reply -> the asker; ${formatNumber(options.samples)} samples after ${formatNumber(options.warmup)} warm-up)`,
    headers: ['row', 'median µs', 'ratio', 'p99 µs', 'ratio', 'asks/s', 'target', 'status'],
    rows: [
      [
        'runTurn alone, stream (baseline)',
        formatNumber(directSummary.median, 2),
        '1.00x',
        formatNumber(directSummary.p99, 2),
        '1.00x',
        '-',
        '-',
        status(undefined),
      ],
      [
        'ask(), one agent',
        formatNumber(askSummary.median, 2),
        formatRatio(askSummary.median, directSummary.median),
        formatNumber(askSummary.p99, 2),
        formatRatio(askSummary.p99, directSummary.p99),
        '-',
        `median <= ${TARGET_MEDIAN_US} µs, p99 <= ${TARGET_P99_US} µs`,
        status(askSummary.median <= TARGET_MEDIAN_US && askSummary.p99 <= TARGET_P99_US),
      ],
      [
        '  same, through createAgentrix',
        formatNumber(composedSummary.median, 2),
        formatRatio(composedSummary.median, directSummary.median),
        formatNumber(composedSummary.p99, 2),
        formatRatio(composedSummary.p99, directSummary.p99),
        '-',
        '-',
        status(undefined),
      ],
      [
        '  same, in a thread of its own',
        formatNumber(threadSummary.median, 2),
        formatRatio(threadSummary.median, directSummary.median),
        formatNumber(threadSummary.p99, 2),
        formatRatio(threadSummary.p99, directSummary.p99),
        '-',
        '-',
        status(undefined),
      ],
      [
        `ask() across ${n} agents, 1 in flight each`,
        '-',
        '-',
        '-',
        '-',
        `${formatNumber(perSecond)} @${n}`,
        `>= ${formatNumber(TARGET_PER_SECOND)}/s`,
        status(perSecond >= TARGET_PER_SECOND),
      ],
      [
        `  same, ${options.inFlightPerAgent} in flight each`,
        '-',
        '-',
        '-',
        '-',
        `${formatNumber(pipelinedPerSecond)} @${formatNumber(n * options.inFlightPerAgent)}`,
        '-',
        status(undefined),
      ],
    ],
    notes: [
      `The spec's defaults but history off (maxHistory 0), in-memory bus, contexts and registry; the model answers at once with`,
      `a tool call, then with the final text. ${formatNumber(turns)} turns ran in all.`,
    ],
  };
}
