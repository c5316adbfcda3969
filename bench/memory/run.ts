// Memory benchmarks: evidence recall@k and prompt tokens against full context on a generated
// long dialogue, and retrieval latency at 10k and 100k facts on PGlite (in memory).
//
//   node --conditions=agentrix-source --expose-gc --import tsx bench/memory/run.ts
//
// Set MEMORY_BENCH_FACTS=10000 to skip the 100k row.

import type { Embedder } from '@agentrix/core';
import { countTextTokens } from '@agentrix/gateway';
import { createMemory, type Memory } from '@agentrix/memory';
import { openDatabase, toVector } from '@agentrix/store';
import { MockLLM, type MockRequest } from '@agentrix/testing';
import { sampleLatency } from '../lib/measure.js';
import { percentile } from '../lib/stats.js';
import { formatNumber, formatRatio, printTable, status } from '../lib/table.js';
import { type DialogueTurn, generateDialogue } from './dialogue.js';

const K = 10;
const WORKING_MESSAGES = 6;
const SYSTEM = 'You are a helpful assistant. Answer briefly.';

/** The small model of the bench: a summary that lists the planted fact as stable. */
function summaryModel(byStatement: Map<string, DialogueTurn>): MockLLM {
  return new MockLLM({
    record: false,
    fallback: (request: MockRequest) => {
      const said = /^user: (.*)$/m.exec(request.messages.at(-1)?.content ?? '')?.[1] ?? '';
      const fact = byStatement.get(said)?.fact;
      return {
        text: JSON.stringify({
          topic: said.slice(0, 60),
          stableFacts: fact ? [{ key: fact.key, text: fact.statement.replace(/^By the way, /, '') }] : [],
        }),
      };
    },
  });
}

async function recallSection(): Promise<void> {
  const dialogue = generateDialogue({ sessions: 30, turnsPerSession: 40, facts: 90 });
  const database = await openDatabase('memory://', { vector: 'off' });
  const byStatement = new Map(dialogue.turns.filter((turn) => turn.fact).map((turn) => [turn.user, turn]));
  const memory = await createMemory({ database, model: summaryModel(byStatement), countTokens: countTextTokens });
  const scope = { userId: 'bench-user', agentId: 'assistant' };
  const started = performance.now();
  for (const turn of dialogue.turns) {
    await memory.recordEpisode({
      scope,
      messages: [
        { role: 'user', content: turn.user },
        { role: 'assistant', content: turn.assistant },
      ],
    });
  }
  const writeMs = performance.now() - started;
  const history = dialogue.turns.flatMap((turn) => [`user: ${turn.user}`, `assistant: ${turn.assistant}`]);
  const fullContextTokens = countTextTokens(SYSTEM) + history.reduce((sum, line) => sum + 4 + countTextTokens(line), 0);
  const working = history.slice(-WORKING_MESSAGES).reduce((sum, line) => sum + 4 + countTextTokens(line), 0);
  let hits = 0;
  let hitsAt1 = 0;
  let memoryTokens = 0;
  let promptTokens = 0;
  for (const fact of dialogue.facts) {
    const found = await memory.retrieve({
      scope,
      query: fact.question,
      facts: K,
      recentEpisodes: 0,
      relevantEpisodes: 2,
      maxTokens: 600,
    });
    const texts = [...found.facts.map((item) => item.text), ...found.episodes.map((item) => item.text)];
    if (texts.some((text) => text.includes(fact.answer))) hits++;
    if (found.facts[0]?.text.includes(fact.answer)) hitsAt1++;
    memoryTokens += found.tokens;
    promptTokens += countTextTokens(SYSTEM) + 4 + found.tokens + working + 4 + countTextTokens(fact.question);
  }
  const questions = dialogue.facts.length;
  const fullPerQuestion = fullContextTokens + 4 + countTextTokens(dialogue.facts[0]!.question);
  const perQuestion = promptTokens / questions;
  const recall = hits / questions;
  printTable({
    title: `Memory: recall and prompt tokens (${dialogue.turns.length} turns in 30 sessions, ${questions} planted facts, ${questions} late questions)`,
    headers: ['prompt', 'recall@10', 'recall@1 (facts)', 'tokens / question', 'vs full context', 'target', 'status'],
    rows: [
      ['full context (baseline)', '100.0%', '-', formatNumber(fullPerQuestion), '1.00x', '-', status(undefined)],
      [
        `memory (system + top ${K} facts + 2 episodes + last ${WORKING_MESSAGES} messages)`,
        `${(recall * 100).toFixed(1)}%`,
        `${((hitsAt1 / questions) * 100).toFixed(1)}%`,
        formatNumber(perQuestion),
        formatRatio(perQuestion, fullPerQuestion),
        '<= 0.10x at recall@10 >= 90%',
        status(perQuestion <= 0.1 * fullPerQuestion && recall >= 0.9),
      ],
    ],
    notes: [
      `Tokens counted with the gateway's o200k tokenizer; retrieved memory averaged ${formatNumber(memoryTokens / questions)} tokens.`,
      `Writes: ${dialogue.turns.length} episodes (+${questions} facts) in ${formatNumber(writeMs)} ms through the mock small model, full-text search only (no embedder).`,
    ],
  });
  await database.close();
}

const WORDS = [
  'alpha',
  'budget',
  'cluster',
  'deploy',
  'editor',
  'filter',
  'garden',
  'harbor',
  'invoice',
  'journal',
  'kernel',
  'ledger',
  'meadow',
  'network',
  'orchid',
  'pepper',
  'quartz',
  'router',
  'saddle',
  'timber',
  'umbrella',
  'velvet',
  'walnut',
  'yellow',
  'zephyr',
];

/** A deterministic bag-of-words embedder (64 dimensions), standing in for a real one. */
const hashEmbedder: Embedder = {
  name: 'hash-64',
  dimensions: 64,
  async embed(texts) {
    return texts.map(hashVector);
  },
};

function hashVector(text: string): number[] {
  const vector = new Array<number>(64).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let hash = 0;
    for (const char of word) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
    vector[hash % 64]! += 1;
  }
  vector[63]! += 0.01;
  return vector;
}

async function insertFacts(memory: Memory, count: number, embeddings: boolean): Promise<void> {
  // Bulk insert through the query builder, 1,000 rows a statement: 100 users, words spread evenly.
  const db = memory.database.kysely;
  for (let from = 1; from <= count; from += 1000) {
    const rows = [];
    for (let i = from; i < Math.min(from + 1000, count + 1); i++) {
      const text = `Fact ${i} about ${WORDS[i % 25]} and ${WORDS[Math.floor(i / 25) % 25]} with code ${(i * 2654435761).toString(36)}`;
      rows.push({
        id: `f${i}`,
        user_id: `user-${i % 100}`,
        agent_id: 'assistant',
        namespace: '',
        key: `fact.${i}`,
        text,
        created_at: i,
        updated_at: i,
        ...(embeddings ? { embedding_d64: toVector(memory.database, hashVector(`fact.${i}: ${text}`)) } : {}),
      });
    }
    await db.insertInto('memory_facts').values(rows).execute();
  }
}

async function latencySection(): Promise<void> {
  const sizes = process.env.MEMORY_BENCH_FACTS ? [Number(process.env.MEMORY_BENCH_FACTS)] : [10_000, 100_000];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const size of sizes) {
    const database = await openDatabase('memory://');
    const memory = await createMemory({ database, embedder: hashEmbedder });
    const textOnly = await createMemory({ database, migrate: false });
    const started = performance.now();
    await insertFacts(memory, size, true);
    notes.push(
      `${formatNumber(size)} facts with 64-d embeddings inserted in ${formatNumber(performance.now() - started)} ms (1,000 rows a statement).`,
    );
    let index = 0;
    const query = () => {
      const a = WORDS[index % 25]!;
      const b = WORDS[(index * 7 + 3) % 25]!;
      const user = `user-${index++ % 100}`;
      return { user, text: `what do you know about ${a} and ${b}?`, a };
    };
    const baseline = await sampleLatency(
      async () => {
        const { user, a } = query();
        await database.kysely
          .selectFrom('memory_facts')
          .select(['id', 'text'])
          .where('user_id', '=', user)
          .where('text', 'ilike', `%${a}%`)
          .orderBy('updated_at', 'desc')
          .limit(K)
          .execute();
      },
      { warmup: 20, samples: 200 },
    );
    const search = await sampleLatency(
      async () => {
        const { user, text } = query();
        await textOnly.searchFacts({ userId: user, agentId: 'assistant' }, text, K);
      },
      { warmup: 20, samples: 200 },
    );
    const hybrid = await sampleLatency(
      async () => {
        const { user, text } = query();
        await memory.searchFacts({ userId: user, agentId: 'assistant' }, text, K);
      },
      { warmup: 20, samples: 200 },
    );
    const p95 = (samples: Float64Array) => percentile(samples.slice().sort(), 0.95) / 1000;
    const p50 = (samples: Float64Array) => percentile(samples.slice().sort(), 0.5) / 1000;
    rows.push([
      `${formatNumber(size)} facts: ILIKE scan, newest first (baseline)`,
      formatNumber(p50(baseline), 2),
      formatNumber(p95(baseline), 2),
      '1.00x',
      '-',
      status(undefined),
    ]);
    rows.push([
      `${formatNumber(size)} facts: searchFacts (full text, ranked)`,
      formatNumber(p50(search), 2),
      formatNumber(p95(search), 2),
      formatRatio(p95(search), p95(baseline)),
      size >= 100_000 ? '<= 20 ms' : '-',
      status(size >= 100_000 ? p95(search) <= 20 : undefined),
    ]);
    rows.push([
      `${formatNumber(size)} facts: searchFacts hybrid (full text + pgvector, RRF)`,
      formatNumber(p50(hybrid), 2),
      formatNumber(p95(hybrid), 2),
      formatRatio(p95(hybrid), p95(baseline)),
      size >= 100_000 ? '<= 20 ms' : '-',
      status(size >= 100_000 ? p95(hybrid) <= 20 : undefined),
    ]);
    await database.close();
  }
  printTable({
    title: 'Memory: fact retrieval latency on PGlite (in memory, pgvector loaded), top 10 of one user among 100',
    headers: ['case', 'p50 ms', 'p95 ms', 'p95 vs baseline', 'target', 'status'],
    rows,
    notes: [
      ...notes,
      'Queries: 2 content words among 25 plus stop words; query embeddings come from the memory cache after the first 25.',
    ],
  });
}

await recallSection();
await latencySection();
