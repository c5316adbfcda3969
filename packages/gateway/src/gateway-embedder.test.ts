import type { Embedder } from '@agentrix/core';
import { FakeClock, MockLLM } from '@agentrix/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryLruCache } from './cache-store.js';
import { createGateway } from './gateway.js';
import type { GatewayEventMap } from './gateway-events.js';
import type { LedgerRecord } from './ledger.js';
import { OpenAIProvider } from './openai-provider.js';
import { embeddings, type FixtureServer, startFixtureServer } from './test-support/openai-fixture-server.js';
import { countTextTokens } from './tokens.js';

const MODELS = {
  'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 1_000 },
};
const TIERS = { small: 'test-small' };
const vectorOf = (text: string) => [text.length, 1, 0];

let server: FixtureServer;
const paths: string[] = [];
beforeAll(async () => {
  server = await startFixtureServer((body, request) => {
    paths.push(request.url ?? '');
    return { json: embeddings(body, vectorOf, () => 5) };
  });
});
afterAll(async () => {
  await server.close();
});

const provider = () =>
  new OpenAIProvider({ apiKey: 'sk-test-embeddings', baseURL: server.baseURL, embeddingDimensions: 3 });

const gatewayWith = (options: Partial<Parameters<typeof createGateway>[0]> = {}) =>
  createGateway({ provider: new MockLLM({ fallback: { text: 'ok' } }), models: MODELS, tiers: TIERS, ...options });

const inputsSent = (from: number) => server.requests.slice(from).map((body) => body.input);

describe('gateway.embedder', () => {
  it('meters each provider call into the ledger with its scope and cost, and charges the budgets', async () => {
    const gateway = gatewayWith({
      budgets: [
        { id: 'all', scope: 'global', period: 'day', usd: 1 },
        { id: 'agents', scope: { agentId: '*' }, period: 'day', tokens: 1_000 },
      ],
    });
    const recorded: LedgerRecord[] = [];
    gateway.events.on('ledger.recorded', (event) => recorded.push(event.record));
    const embedder = gateway.embedder({ provider: provider() });
    expect(embedder.dimensions).toBe(3);
    const before = server.requests.length;
    const scope = { agentId: 'a1', userId: 'u1', tags: ['memory.embedding'] };
    const vectors = await embedder.embed(['first fact', 'second fact', 'first fact'], { scope });
    expect(vectors).toEqual([vectorOf('first fact'), vectorOf('second fact'), vectorOf('first fact')]);
    expect(inputsSent(before)).toEqual([['first fact', 'second fact']]);
    expect(paths.at(-1)).toBe('/v1/embeddings');
    const [record] = await gateway.ledger.query();
    expect(record).toMatchObject({
      model: 'text-embedding-3-small',
      inputTokens: 10,
      outputTokens: 0,
      estimated: false,
      costUsd: 2e-7,
      agentId: 'a1',
      userId: 'u1',
      tags: ['memory.embedding'],
      cacheHit: false,
    });
    expect(record?.error).toBeUndefined();
    expect(recorded).toHaveLength(1);
    const status = await gateway.budgetStatus({ agentId: 'a1' });
    expect(status.find((line) => line.budget === 'all')).toMatchObject({ spent: 2e-7, reserved: 0 });
    expect(status.find((line) => line.budget === 'agents[a1]')).toMatchObject({ spent: 10, reserved: 0 });
    expect((await gateway.report()).byAgent.a1).toMatchObject({ calls: 1, inputTokens: 10 });
    await gateway.close();
  });

  it('embeds each text once: cached texts cost nothing and leave no record, concurrent calls share one request', async () => {
    const gateway = gatewayWith();
    const embedder = gateway.embedder({ provider: provider() });
    const before = server.requests.length;
    await embedder.embed(['alpha']);
    await embedder.embed(['alpha', 'beta']);
    await Promise.all([embedder.embed(['gamma']), embedder.embed(['gamma', 'alpha']), embedder.embed(['gamma'])]);
    expect(inputsSent(before)).toEqual([['alpha'], ['beta'], ['gamma']]);
    const records = await gateway.ledger.query();
    expect(records.map((record) => record.inputTokens)).toEqual([5, 5, 5]);
    await gateway.close();
  });

  it('refuses a call that does not fit a budget, before it reaches the provider, and records it', async () => {
    const gateway = gatewayWith({ budgets: [{ id: 'tiny', scope: 'global', period: 'day', tokens: 3 }] });
    const embedder = gateway.embedder({ provider: provider() });
    const before = server.requests.length;
    await expect(embedder.embed(['a text that is longer than three tokens'])).rejects.toMatchObject({
      code: 'BUDGET_EXCEEDED',
    });
    expect(server.requests.length).toBe(before);
    const [record] = await gateway.ledger.query();
    expect(record).toMatchObject({ inputTokens: 0, costUsd: 0, error: { code: 'BUDGET_EXCEEDED' } });
    const [status] = await gateway.budgetStatus();
    expect(status).toMatchObject({ spent: 0, reserved: 0 });
    await gateway.close();
  });

  it('keeps vectors in a cache store passed in across gateways (a restart) and leaves it open', async () => {
    const store = new InMemoryLruCache<number[]>();
    const first = gatewayWith();
    const before = server.requests.length;
    await first.embedder({ provider: provider(), cache: store }).embed(['durable text']);
    await first.close();
    const second = gatewayWith();
    expect(await second.embedder({ provider: provider(), cache: store }).embed(['durable text'])).toEqual([
      vectorOf('durable text'),
    ]);
    expect(server.requests.length).toBe(before + 1);
    expect(await second.ledger.query()).toEqual([]);
    expect(store.size).toBe(1);
    await second.close();
  });

  it('counts tokens locally (estimated) for an embedder that reports no usage, with a custom price', async () => {
    let calls = 0;
    const plain: Embedder = {
      name: 'plain',
      dimensions: 2,
      async embed(texts) {
        calls++;
        return texts.map(() => [1, 2]);
      },
    };
    const gateway = gatewayWith({ embeddingModels: { 'local-embed': { inputPerMillion: 1 } } });
    const embedder = gateway.embedder({ provider: plain, model: 'local-embed', cache: false });
    await embedder.embed(['hello world']);
    await embedder.embed(['hello world']);
    expect(calls).toBe(2);
    const records = await gateway.ledger.query();
    const tokens = countTextTokens('hello world');
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      model: 'local-embed',
      inputTokens: tokens,
      estimated: true,
      costUsd: tokens / 1e6,
    });
    await gateway.close();
  });

  it('checks its options and records provider failures', async () => {
    const gateway = gatewayWith();
    expect(() => gateway.embedder({ provider: provider(), model: 'nope' })).toThrow(
      expect.objectContaining({ code: 'MODEL_NOT_FOUND' }),
    );
    const failing: Embedder = {
      name: 'failing',
      dimensions: 2,
      async embed() {
        throw new Error('boom');
      },
    };
    expect(() => gateway.embedder({ provider: failing })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    const embedder = gateway.embedder({ provider: failing, model: 'text-embedding-3-small' });
    await expect(embedder.embed(['x'])).rejects.toThrow('boom');
    const [record] = await gateway.ledger.query();
    expect(record).toMatchObject({ inputTokens: 0, error: { message: 'boom' } });
    await gateway.close();
    expect(() => gateway.embedder({ provider: failing, model: 'text-embedding-3-small' })).toThrow(
      expect.objectContaining({ code: 'CLOSED' }),
    );
  });
});

describe('gateway.embedder through the budget and metering middleware', () => {
  it('says in a refusal when the budget resets, like a refused chat call', async () => {
    // 2026-03-14 15:00 UTC: the day budget resets at the next UTC midnight, the month one on April 1st.
    const clock = new FakeClock(Date.UTC(2026, 2, 14, 15));
    const gateway = gatewayWith({
      clock,
      budgets: [
        { id: 'day', scope: 'global', period: 'day', tokens: 3 },
        { id: 'month', scope: 'global', period: 'month', usd: 10 },
      ],
    });
    const embedder = gateway.embedder({ provider: provider(), cache: false });
    const refused = embedder.embed(['a text that is longer than three tokens']);
    await expect(refused).rejects.toMatchObject({
      code: 'BUDGET_EXCEEDED',
      details: { budget: 'day', unit: 'tokens', limit: 3, resetsAt: Date.UTC(2026, 2, 15) },
    });
    const chat = gateway.generate({ messages: [{ role: 'user', content: 'a text that is longer than three tokens' }] });
    await expect(chat).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED', details: { resetsAt: Date.UTC(2026, 2, 15) } });
    await gateway.close();
  });

  it("emits budget.reserved, budget.settled and ledger.recorded in that order, with the chat events' shapes", async () => {
    const gateway = gatewayWith({
      reservationMargin: 1,
      budgets: [
        { id: 'usd', scope: 'global', period: 'day', usd: 1 },
        { id: 'tokens', scope: { agentId: '*' }, period: 'day', tokens: 1_000 },
      ],
    });
    const seen: { name: string; event: unknown }[] = [];
    for (const name of ['budget.reserved', 'budget.settled', 'budget.released', 'ledger.recorded'] as const) {
      gateway.events.on(name, (event: GatewayEventMap[typeof name]) => seen.push({ name, event }));
    }
    const embedder = gateway.embedder({ provider: provider(), cache: false });
    const scope = { agentId: 'a1' };
    await embedder.embed(['one', 'two'], { scope });
    const counted = countTextTokens('one') + countTextTokens('two');
    expect(seen.map((entry) => entry.name)).toEqual(['budget.reserved', 'budget.settled', 'ledger.recorded']);
    const [reserved, settled, recorded] = seen.map((entry) => entry.event) as [
      GatewayEventMap['budget.reserved'],
      GatewayEventMap['budget.settled'],
      GatewayEventMap['ledger.recorded'],
    ];
    // The worst case is the counted input doubled by the margin of 1; the provider reported 5 tokens a text.
    expect(reserved).toMatchObject({ scope, model: 'text-embedding-3-small' });
    expect(reserved.lines).toEqual([
      { budget: 'usd', unit: 'usd', amount: Math.ceil(counted * 2 * 0.02 * 1_000) / 1e9 },
      { budget: 'tokens[a1]', unit: 'tokens', amount: counted * 2 },
    ]);
    expect(settled).toMatchObject({ callId: reserved.callId, estimated: false });
    expect(settled.lines).toEqual([
      { budget: 'usd', unit: 'usd', amount: 2e-7 },
      { budget: 'tokens[a1]', unit: 'tokens', amount: 10 },
    ]);
    expect(recorded.record).toMatchObject({ id: reserved.callId, inputTokens: 10, costUsd: 2e-7, agentId: 'a1' });
    await gateway.close();
  });

  it('releases the reservation of a provider call that failed, and records the failure once', async () => {
    const gateway = gatewayWith({ budgets: [{ id: 'day', scope: 'global', period: 'day', tokens: 1_000 }] });
    const released: GatewayEventMap['budget.released'][] = [];
    gateway.events.on('budget.released', (event) => released.push(event));
    const failing: Embedder = {
      name: 'failing',
      dimensions: 2,
      async embed() {
        throw new Error('provider down');
      },
    };
    const embedder = gateway.embedder({ provider: failing, model: 'text-embedding-3-small', cache: false });
    await expect(embedder.embed(['x'])).rejects.toThrow('provider down');
    expect(released).toMatchObject([{ model: 'text-embedding-3-small', reason: 'error' }]);
    const records = await gateway.ledger.query();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ id: released[0]!.callId, inputTokens: 0, error: { message: 'provider down' } });
    const [status] = await gateway.budgetStatus();
    expect(status).toMatchObject({ spent: 0, reserved: 0 });
    await gateway.close();
  });
});
