import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ToolCall } from '@agentrix/core';
import {
  defineSkill,
  InMemoryIdempotencyStore,
  McpClientManager,
  SkillExecutor,
  SkillRegistry,
} from '@agentrix/skills';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { z } from 'zod';
import { sampleLatency } from '../lib/measure.js';
import { summarize } from '../lib/stats.js';
import { formatNumber, formatRatio, printTable, status } from '../lib/table.js';

// Skills benchmarks: (1) executor overhead per local call against a bare direct call,
// (2) an MCP tool call over stdio through McpClientManager + SkillExecutor against the SDK's raw
// client. Run: node --conditions=agentrix-source --expose-gc --import tsx bench/skills/run.ts [1] [2]

const EVERYTHING = fileURLToPath(
  new URL('../../packages/skills/node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);

const cpu = cpus();
console.log('# Agentrix skills benchmarks');
console.log(`node ${process.version} (${process.platform}/${process.arch}), V8 ${process.versions.v8}`);
console.log(`cpu: ${cpu[0]?.model.trim() ?? 'unknown'}, ${cpu.length} cores`);

const sections = new Set(process.argv.slice(2));
const wanted = (section: string) => sections.size === 0 || sections.has(section);
const gc = (globalThis as { gc?: () => void }).gc;

/** Median nanoseconds per call: `batches` timed loops of `perBatch` sequential awaited calls. */
async function nsPerCall(run: (i: number) => unknown, batches = 60, perBatch = 5_000): Promise<number> {
  let i = 0;
  for (let n = 0; n < 20_000; n++) await run(i++);
  gc?.();
  const samples = new Float64Array(batches);
  for (let b = 0; b < batches; b++) {
    const started = process.hrtime.bigint();
    for (let n = 0; n < perBatch; n++) await run(i++);
    samples[b] = Number(process.hrtime.bigint() - started) / perBatch;
  }
  return summarize(samples).median;
}

async function localSection(): Promise<void> {
  const input = z.object({ a: z.number(), b: z.number(), note: z.string().max(100).optional() });
  const add = defineSkill({ name: 'add', description: 'adds', input, execute: ({ a, b }) => a + b });
  const addKeyed = defineSkill({
    name: 'add_keyed',
    description: 'adds, once per key',
    input: input.extend({ id: z.string() }),
    idempotencyKey: (value) => value.id,
    execute: ({ a, b }) => a + b,
  });
  const registry = new SkillRegistry();
  registry.register(add);
  registry.register(addKeyed);
  const store = new InMemoryIdempotencyStore();
  const executor = new SkillExecutor({ registry, idempotency: store });
  const skills = registry.select(['*']);
  const signal = new AbortController().signal;
  const context = { agentId: 'bench', turnId: 'turn', signal };
  const toolContext = {
    ...context,
    threadId: 'main',
    toolCallId: 'c',
    send: () => Promise.reject(new Error('no bus')),
    ask: () => Promise.reject(new Error('no agents')),
  };
  const call: ToolCall = { id: 'c', name: 'add', arguments: '{"a":1,"b":2}' };

  const direct = await nsPerCall(() => add.execute({ a: 1, b: 2 }, toolContext));
  const validated = await nsPerCall(() => add.execute(input.parse(JSON.parse(call.arguments)), toolContext));
  const executed = await nsPerCall(() => executor.executeToolCall(call, skills, context));
  const keyed = await nsPerCall((i) => {
    if (i % 50_000 === 0) store.clear();
    return executor.executeToolCall(
      { id: 'k', name: 'add_keyed', arguments: `{"a":1,"b":2,"id":"k${i}"}` },
      skills,
      context,
    );
  });
  const replay: ToolCall = { id: 'r', name: 'add_keyed', arguments: '{"a":1,"b":2,"id":"same"}' };
  await executor.executeToolCall(replay, skills, context);
  const replayed = await nsPerCall(() => executor.executeToolCall(replay, skills, context));
  const parallel = await nsPerCall(
    () => executor.executeToolCalls([call, call, call, call], skills, context),
    40,
    1_000,
  );

  const us = (ns: number) => formatNumber(ns / 1_000, 2);
  const target = 10_000;
  printTable({
    title: '1. Executor overhead per local call (in memory)',
    headers: ['path', 'µs / call', 'vs direct', 'target ≤ 10 µs'],
    rows: [
      ['direct `skill.execute(input)` (baseline)', us(direct), '1.00x', '-'],
      ['JSON.parse + zod parse + execute (no executor)', us(validated), formatRatio(validated, direct), '-'],
      ['executor: validate + run', us(executed), formatRatio(executed, direct), status(executed <= target)],
      [
        'executor: validate + claim key + run + complete',
        us(keyed),
        formatRatio(keyed, direct),
        status(keyed <= target),
      ],
      [
        'executor: same key again (stored result)',
        us(replayed),
        formatRatio(replayed, direct),
        status(replayed <= target),
      ],
      ['executor: step of 4 sequential calls (per step)', us(parallel), formatRatio(parallel, direct), '-'],
    ],
    notes: [
      'Median of 60 batches of 5 000 sequential awaited calls (40 x 1 000 for the step row); each call returns a tool message.',
    ],
  });
}

async function mcpSection(): Promise<void> {
  const options = { warmup: 300, samples: 3_000 };
  const raw = new Client({ name: 'raw', version: '1.0.0' });
  const transport = new StdioClientTransport({ command: process.execPath, args: [EVERYTHING], stderr: 'ignore' });
  await raw.connect(transport);
  const rawSamples = await sampleLatency(
    () => raw.callTool({ name: 'echo', arguments: { message: 'hello' } }),
    options,
  );
  await raw.close();

  const registry = new SkillRegistry();
  const manager = new McpClientManager({ registry });
  await manager.add({ name: 'everything', transport: 'stdio', command: process.execPath, args: [EVERYTHING] });
  const managerSamples = await sampleLatency(
    () => manager.callTool('everything', 'echo', { message: 'hello' }),
    options,
  );
  const executor = new SkillExecutor({ registry });
  const skills = registry.select(['everything__*']);
  const context = { agentId: 'bench', turnId: 'turn', signal: new AbortController().signal };
  const call: ToolCall = { id: 'm', name: 'everything__echo', arguments: '{"message":"hello"}' };
  const executorSamples = await sampleLatency(() => executor.executeToolCall(call, skills, context), options);
  await manager.close();

  const base = summarize(rawSamples);
  const row = (name: string, samples: Float64Array) => {
    const s = summarize(samples);
    return [
      name,
      formatNumber(s.median / 1_000, 3),
      formatNumber(s.p99 / 1_000, 3),
      formatRatio(s.median, base.median),
    ];
  };
  printTable({
    title: '2. MCP tool call over stdio (server-everything `echo`)',
    headers: ['path', 'median ms', 'p99 ms', 'vs raw SDK'],
    rows: [
      row('raw SDK Client.callTool (baseline)', rawSamples),
      row('McpClientManager.callTool', managerSamples),
      row('SkillExecutor -> MCP skill (validate + call + format)', executorSamples),
    ],
    notes: [`${options.samples} sequential calls after ${options.warmup} warm-up calls, one server process each.`],
  });
}

const started = performance.now();
if (wanted('1')) await localSection();
if (wanted('2')) await mcpSection();
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
