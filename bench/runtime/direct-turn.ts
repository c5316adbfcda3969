import type { ChatMessage } from '@agentrix/core';
import { createToolSet, runTurn } from '@agentrix/runtime';
import { measureThroughput, sampleLatency } from '../lib/measure.js';
import { summarize } from '../lib/stats.js';
import { formatNumber, formatRatio, status, type Table } from '../lib/table.js';
import { addTool } from './add-tool.js';
import { bareLoop } from './bare-loop.js';
import { InstantModel } from './instant-model.js';

const TARGET_MEDIAN_US = 20;
const TARGET_RUNS_PER_SECOND = 100_000;

export interface DirectTurnOptions {
  warmup: number;
  samples: number;
  concurrency: number;
  durationMs: number;
}

interface Row {
  name: string;
  run: () => Promise<unknown>;
  baseline: boolean;
}

/** Section 1: a 2-step turn (tool call, then answer) called directly, against a hand-written loop. */
export async function benchDirectTurn(options: DirectTurnOptions): Promise<Table> {
  const model = new InstantModel();
  const tools = createToolSet([addTool]);
  const definitions = [...tools.definitions];
  const messages: readonly ChatMessage[] = [{ role: 'user', content: 'What is 2 + 3?' }];

  // Check once that every variant does the two steps and gets the answer.
  const expected = 'The sum is 5.';
  const turn = await runTurn({ model, messages, tools, stream: false });
  if (turn.reply !== expected || turn.steps !== 2)
    throw new Error(`runTurn: unexpected result ${JSON.stringify(turn)}`);
  if ((await bareLoop(model, messages, definitions)) !== expected) throw new Error('bare loop: unexpected reply');

  const rows: Row[] = [
    { name: 'bare hand-written loop (baseline)', run: () => bareLoop(model, messages, definitions), baseline: true },
    { name: 'runTurn (generate)', run: () => runTurn({ model, messages, tools, stream: false }), baseline: false },
    { name: 'runTurn (stream)', run: () => runTurn({ model, messages, tools, stream: true }), baseline: false },
  ];

  const results: { name: string; median: number; p99: number; perSecond: number; baseline: boolean }[] = [];
  for (const row of rows) {
    const { median, p99 } = summarize(await sampleLatency(row.run, options));
    const perSecond = await measureThroughput(row.run, {
      concurrency: options.concurrency,
      durationMs: options.durationMs,
    });
    results.push({ name: row.name, median, p99, perSecond, baseline: row.baseline });
  }
  const base = results[0]!;
  return {
    title: `1. 2-step run, direct (instant model, one zod tool; ${formatNumber(options.samples)} samples after ${formatNumber(options.warmup)} warm-up; ${options.concurrency} in flight for ${options.durationMs / 1000} s)`,
    headers: ['row', 'median µs', 'ratio', 'p99 µs', `runs/s @${options.concurrency}`, 'ratio', 'target', 'status'],
    rows: results.map((result) => [
      result.name,
      formatNumber(result.median, 2),
      formatRatio(result.median, base.median),
      formatNumber(result.p99, 2),
      formatNumber(result.perSecond),
      formatRatio(result.perSecond, base.perSecond),
      result.baseline ? '-' : `<= ${TARGET_MEDIAN_US} µs, >= ${formatNumber(TARGET_RUNS_PER_SECOND)}/s`,
      result.baseline
        ? status(undefined)
        : status(result.median <= TARGET_MEDIAN_US && result.perSecond >= TARGET_RUNS_PER_SECOND),
    ]),
    notes: [
      'Reference figures (published, not measured here; one 2-step run with an instant model):',
      '  OpenAI Agents SDK 0.20  ~ 750 µs, ~ 3,000 runs/s',
      '  VoltAgent               ~ 1.2 ms',
      '  LangGraph.js            ~ 2.3 ms',
      '  Mastra 1.71             ~ 5 ms',
    ],
  };
}
