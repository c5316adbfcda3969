import { cpus } from 'node:os';
import type { ChatModel, ChatRequest, ChatResponse, ChatStreamPart } from '@agentrix/core';
import { createGateway, InMemoryBudgetStore } from '@agentrix/gateway';
import { sampleLatency } from '../lib/measure.js';
import { summarize } from '../lib/stats.js';
import { formatNumber, formatRatio, printTable, status } from '../lib/table.js';

// Overhead of the gateway over a direct call to an instant in-process model.
// Run: node --conditions=agentrix-source --expose-gc --import tsx bench/gateway/run.ts

const RESPONSE: ChatResponse = Object.freeze({
  message: { role: 'assistant', content: 'The sum is 5.' },
  finishReason: 'stop',
  usage: { inputTokens: 40, outputTokens: 6 },
  model: 'bench-small',
}) as ChatResponse;

/** Answers at once, no I/O: the benchmark measures only the code around it. */
class InstantModel implements ChatModel {
  readonly name = 'bench/instant';
  async generate(_request: ChatRequest): Promise<ChatResponse> {
    return RESPONSE;
  }
  async *stream(_request: ChatRequest): AsyncIterable<ChatStreamPart> {
    yield { type: 'text-delta', text: RESPONSE.message.content };
    yield { type: 'finish', response: RESPONSE };
  }
}

const models = {
  'bench-large': { inputPerMillion: 2.5, outputPerMillion: 10, contextWindow: 128_000, maxOutputTokens: 16_384 },
  'bench-small': { inputPerMillion: 0.15, outputPerMillion: 0.6, contextWindow: 128_000, maxOutputTokens: 16_384 },
};
const tiers = { large: 'bench-large', small: 'bench-small' };
const request: ChatRequest = {
  messages: [
    { role: 'system', content: 'You add numbers. Answer in one short sentence.' },
    { role: 'user', content: 'What is 2 + 3?' },
  ],
  tier: 'small',
  maxTokens: 64,
  scope: { agentId: 'worker-1', userId: 'u1', workflowId: 'w1' },
};
const budgets = [
  { id: 'team', scope: 'global' as const, period: 'day' as const, usd: 1e9 },
  { id: 'agents', scope: { agentId: '*' }, period: 'day' as const, usd: 1e9, tokens: 1e15 },
];
const rateLimits = [{ scope: { agentId: '*' }, callsPerMinute: 1e12, tokensPerMinute: 1e15 }];

const model = new InstantModel();
const bare = createGateway({ provider: model, models, tiers });
const full = createGateway({ provider: model, models, tiers, budgets, rateLimits });
const cached = createGateway({ provider: model, models, tiers, budgets, rateLimits, cache: { maxEntries: 1_000 } });
await cached.generate(request);
const store = new InMemoryBudgetStore();
const line = { key: 'bench:usd', limit: Number.MAX_SAFE_INTEGER, amount: 10_000 };
const settleLine = { key: 'bench:usd', actual: 7_000 };
let reservations = 0;

const streamOnce = async () => {
  for await (const _part of cached.stream(request)) {
    // drain
  }
};

const rows: { name: string; run: () => Promise<unknown>; target?: number }[] = [
  { name: 'direct call to the instant model (baseline)', run: () => model.generate(request) },
  { name: 'gateway, no budgets/limits/cache (metering, retry, prompt budget)', run: () => bare.generate(request) },
  { name: 'gateway full stack (2 budgets, rate limit, no cache)', run: () => full.generate(request) },
  { name: 'gateway full stack, cache hit (generate)', run: () => cached.generate(request), target: 20 },
  { name: 'gateway full stack, cache hit (stream replay)', run: streamOnce },
  {
    name: 'budget reserve + settle (InMemoryBudgetStore)',
    run: async () => {
      const id = `bench-${++reservations}`;
      await store.reserve({ id, holder: 'bench', expiresAt: Number.MAX_SAFE_INTEGER, lines: [line] });
      await store.settle({ id, lines: [settleLine] });
    },
    target: 50,
  },
];

const warmup = 20_000;
const samples = 100_000;
const cpu = cpus();
console.log('# Agentrix gateway benchmarks');
console.log(`node ${process.version} (${process.platform}/${process.arch}), V8 ${process.versions.v8}`);
console.log(`cpu: ${cpu[0]?.model.trim() ?? 'unknown'}, ${cpu.length} cores`);
const results: { name: string; median: number; p99: number; target: number | undefined }[] = [];
for (const row of rows) {
  const { median, p99 } = summarize(await sampleLatency(row.run, { warmup, samples }));
  results.push({ name: row.name, median, p99, target: row.target });
}
const base = results[0]!;
printTable({
  title: `Gateway overhead (sequential, ${formatNumber(samples)} samples after ${formatNumber(warmup)} warm-up)`,
  headers: ['row', 'median µs', 'ratio', 'p99 µs', 'target', 'status'],
  rows: results.map((result, index) => [
    result.name,
    formatNumber(result.median, 2),
    index === 0 ? '1.00x' : formatRatio(result.median, base.median),
    formatNumber(result.p99, 2),
    result.target === undefined ? '-' : `≤ ${result.target} µs`,
    status(result.target === undefined ? undefined : result.median <= result.target),
  ]),
  notes: [
    'Targets (issue 3): a cache hit ≤ 20 µs; budget reserve + settle ≤ 50 µs in-process.',
    'For reference, LiteLLM reports 3.25 ms of added latency for its proxy; Portkey claims under 1 ms.',
  ],
});
const ledger = await full.ledger.query();
console.log(`\n(ledger holds ${formatNumber(ledger.length)} records of the full-stack row)`);
await Promise.all([bare.close(), full.close(), cached.close(), store.close()]);
