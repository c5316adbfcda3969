// Memory's model calls through the gateway: the summary call and the embedding calls are
// budgeted and metered like any call, and each distinct text is embedded once.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway, OpenAIProvider } from '@agentrix/gateway';
import { type Database, openDatabase } from '@agentrix/store';
import { hashVector, MockLLM } from '@agentrix/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMemory } from './memory.js';

const DIMENSIONS = 16;
const vectorOf = (text: string) => hashVector(text, DIMENSIONS);
const tokensOf = (text: string) => Math.ceil(text.length / 4);

/** A minimal OpenAI-compatible `/v1/embeddings` server, reporting `usage.prompt_tokens`. */
let server: Server;
let baseURL: string;
const embedded: string[] = [];
beforeAll(async () => {
  server = createServer((request, response) => {
    let data = '';
    request.on('data', (chunk: Buffer) => {
      data += chunk.toString('utf8');
    });
    request.on('end', () => {
      const body = JSON.parse(data) as { input: string[]; model: string };
      if (request.url !== '/v1/embeddings') {
        response.writeHead(404).end();
        return;
      }
      embedded.push(...body.input);
      const promptTokens = body.input.reduce((sum, text) => sum + tokensOf(text), 0);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          object: 'list',
          data: body.input.map((text, index) => ({ object: 'embedding', index, embedding: vectorOf(text) })),
          model: body.model,
          usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

let database: Database;
beforeAll(async () => {
  database = await openDatabase('memory://');
}, 60_000);
afterAll(async () => {
  await database?.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const FACT = "The user's favourite colour is teal";
const summary = JSON.stringify({
  topic: 'Colour preferences',
  conclusions: ['The user likes teal'],
  stableFacts: [{ key: 'user.favourite_color', text: FACT }],
});

it('meters the summary and embedding calls of memory writes in the gateway, embedding each text once', async () => {
  const small = new MockLLM({ fallback: { text: summary, usage: { inputTokens: 120, outputTokens: 40 } } });
  const gateway = createGateway({
    provider: small,
    models: { 'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 1_000 } },
    tiers: { small: 'test-small' },
    budgets: [{ id: 'users', scope: { userId: '*' }, period: 'day', tokens: 100_000 }],
  });
  const embedder = gateway.embedder({
    provider: new OpenAIProvider({ apiKey: 'sk-test-memory', baseURL, embeddingDimensions: DIMENSIONS }),
  });
  const userId = `user-${randomUUID()}`;
  const scope = { userId, agentId: 'assistant' };
  const memory = await createMemory({ database, model: gateway, embedder });
  const messages = [
    { role: 'user' as const, content: 'My favourite colour is teal.' },
    { role: 'assistant' as const, content: 'Noted.' },
  ];
  await memory.recordEpisode({ scope, messages });
  // The same exchange again: the same fact text (and episode text) is not embedded again.
  await memory.recordEpisode({ scope, messages });
  const found = await memory.retrieve({ scope, query: 'what colour does the user like' });
  expect(found.facts[0]?.text).toBe(FACT);
  expect(found.vector).toBe(true);

  const records = await gateway.ledger.query();
  const summaries = records.filter((record) => record.tags?.includes('memory.summary'));
  expect(summaries).toHaveLength(2);
  expect(summaries[0]).toMatchObject({
    model: 'test-small',
    tier: 'small',
    inputTokens: 120,
    outputTokens: 40,
    userId,
    agentId: 'assistant',
  });
  const embeddings = records.filter((record) => record.tags?.includes('memory.embedding'));
  expect(embeddings.length).toBeGreaterThanOrEqual(2);
  for (const record of embeddings) {
    expect(record).toMatchObject({ model: 'text-embedding-3-small', userId, agentId: 'assistant', estimated: false });
    expect(record.inputTokens).toBeGreaterThan(0);
    expect(record.costUsd).toBeGreaterThan(0);
    expect(record.error).toBeUndefined();
  }
  const factText = `user.favourite_color: ${FACT}`;
  expect(embedded.filter((text) => text === factText)).toHaveLength(1);
  expect(new Set(embedded).size).toBe(embedded.length);
  const embeddedTokens = embeddings.reduce((sum, record) => sum + record.inputTokens, 0);
  expect(embeddedTokens).toBe(embedded.reduce((sum, text) => sum + tokensOf(text), 0));

  // Both kinds of call are charged to the same per-user budget.
  const [status] = await gateway.budgetStatus({ userId });
  expect(status).toMatchObject({ budget: `users[${userId}]`, spent: 2 * (120 + 40) + embeddedTokens, reserved: 0 });

  // Another memory (a restart) on the same gateway embedder: the fact text is a cache hit, no call.
  const before = embedded.length;
  const again = await createMemory({ database, model: gateway, embedder });
  await again.remember({ scope: { userId: `user-${randomUUID()}` }, key: 'user.favourite_color', text: FACT });
  expect(embedded.length).toBe(before);
  expect(again.embeddedTexts).toBe(1);
  await again.close();
  await memory.close();
  await gateway.close();
}, 15_000); // opens PGlite and migrates inside the test: 4.5-5.8 s at a load average of 18 (2 cores)
