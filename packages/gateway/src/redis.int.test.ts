import { randomUUID } from 'node:crypto';
import type { ChatResponse } from '@agentrix/core';
import { MockLLM } from '@agentrix/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetStoreContract } from './budget-store.contract.js';
import { createGateway } from './gateway.js';
import { RedisBudgetStore } from './redis-budget-store.js';
import { RedisCache } from './redis-cache.js';
import { outcomes } from './test-support/requests.js';

const url = process.env.REDIS_URL;
if (!url) throw new Error('REDIS_URL is not set: run with node scripts/with-services.mjs -- vitest ...');
const client = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
afterAll(async () => {
  await client.quit();
});

budgetStoreContract('RedisBudgetStore', (prefix) => new RedisBudgetStore({ client, keyPrefix: `{${prefix}}` }));

const MODELS = {
  'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 1_000 },
};

describe('gateways in several processes share one Redis budget', () => {
  let prefix: string;
  beforeAll(() => {
    prefix = `{test-${randomUUID()}}:`;
  });

  it('100 concurrent calls through two gateways stay under one cap', async () => {
    const make = () =>
      createGateway({
        provider: new MockLLM({ fallback: { text: 'ok', delayMs: 5, usage: { inputTokens: 9, outputTokens: 50 } } }),
        models: MODELS,
        tiers: { small: 'test-small' },
        budgets: [{ id: 'team', scope: 'global', period: 'day', usd: 0.001 }],
        budgetStore: new RedisBudgetStore({ client, keyPrefix: prefix }),
        degradation: { planOnly: false },
      });
    const first = make();
    const second = make();
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, index) =>
        (index % 2 === 0 ? first : second).generate({ messages: [{ role: 'user', content: 'tight' }], maxTokens: 50 }),
      ),
    );
    const { ok, refused } = outcomes(results, 'BUDGET_EXCEEDED');
    expect(ok + refused).toBe(100);
    expect(ok).toBe(9);
    const [status] = await first.budgetStatus();
    expect(status!.spent).toBeLessThanOrEqual(status!.limit);
    expect(status!.reserved).toBe(0);
    expect(status!.spent).toBeCloseTo(9 * 0.000109, 9);
    await first.close();
    await second.close();
  });
});

describe('RedisCache', () => {
  it('stores JSON values with a TTL and serves gateway cache hits across gateways', async () => {
    const keyPrefix = `test-${randomUUID()}:`;
    const cache = new RedisCache<ChatResponse>({ client, keyPrefix });
    const provider = new MockLLM({ fallback: { text: 'cached answer' } });
    const make = () =>
      createGateway({ provider, models: MODELS, tiers: { small: 'test-small' }, cache: {}, cacheStore: cache });
    const request = { messages: [{ role: 'user' as const, content: 'same question' }] };
    await make().generate(request);
    const response = await make().generate(request);
    expect(response.message.content).toBe('cached answer');
    expect(provider.calls).toBe(1);
    await cache.set(
      'short',
      {
        message: { role: 'assistant', content: 'x' },
        finishReason: 'stop',
        usage: { inputTokens: 0, outputTokens: 0 },
        model: 'm',
      },
      1,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await cache.get('short')).toBeUndefined();
  });
});

describe('the gateway embedder on a Redis cache', () => {
  it('embeds a text once across gateways (restarts and processes) that share the cache', async () => {
    const cache = new RedisCache<number[]>({ client, keyPrefix: `test-${randomUUID()}:` });
    const sent: string[][] = [];
    const provider = {
      name: 'counting',
      dimensions: 2,
      embeddingModel: 'text-embedding-3-small',
      async embed(texts: string[]) {
        sent.push(texts);
        return texts.map((text) => [text.length, 1]);
      },
    };
    const make = () => createGateway({ provider: new MockLLM(), models: MODELS, tiers: { small: 'test-small' } });
    const first = make();
    await first.embedder({ provider, cache }).embed(['kept in redis'], { scope: { agentId: 'a' } });
    await first.close();
    const second = make();
    expect(await second.embedder({ provider, cache }).embed(['kept in redis', 'new text'])).toEqual([
      [13, 1],
      [8, 1],
    ]);
    expect(sent).toEqual([['kept in redis'], ['new text']]);
    expect((await second.ledger.query()).map((record) => record.inputTokens)).toEqual([2]);
    await second.close();
  });
});
