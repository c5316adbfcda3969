import { AgentrixError, type ChatStreamPart, createSequentialIds } from '@agentrix/core';
import { FakeClock, MockLLM } from '@agentrix/testing';
import { LLMock } from '@copilotkit/aimock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from './gateway.js';
import type { GatewayEventMap } from './gateway-events.js';
import type { GatewayOptions } from './gateway-options.js';
import { InMemoryLedger } from './ledger.js';
import { OpenAIProvider } from './openai-provider.js';
import { chunk, type FixtureServer, startFixtureServer } from './test-support/openai-fixture-server.js';
import { failure, outcomes, user } from './test-support/requests.js';

/** Simple prices: $1 per 1M input tokens, $2 per 1M output tokens (1,000 / 2,000 nano-dollars a token). */
const MODELS = {
  'test-large': { inputPerMillion: 10, outputPerMillion: 20, contextWindow: 8_000, maxOutputTokens: 1_000 },
  'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 1_000 },
};
const TIERS = { large: 'test-large', small: 'test-small' };

async function drain(stream: AsyncIterable<ChatStreamPart>): Promise<ChatStreamPart[]> {
  const parts: ChatStreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

function record<K extends keyof GatewayEventMap>(gateway: Gateway, name: K): GatewayEventMap[K][] {
  const seen: GatewayEventMap[K][] = [];
  gateway.events.on(name, ((event: GatewayEventMap[K]) => seen.push(event)) as never);
  return seen;
}

describe('gateway configuration', () => {
  const provider = new MockLLM({ fallback: { text: 'ok' } });
  const base: GatewayOptions = { provider, models: MODELS, tiers: TIERS };
  const configError = (options: GatewayOptions) => {
    try {
      createGateway(options);
    } catch (error) {
      if (AgentrixError.isInstance(error)) return error;
      throw error;
    }
    throw new Error('expected a configuration error');
  };

  it('rejects an invalid price table, a negative budget, an unknown tier or model, at creation', () => {
    const price = configError({ ...base, models: { 'test-small': { ...MODELS['test-small'], inputPerMillion: -1 } } });
    expect(price.code).toBe('INVALID_ARGUMENT');
    expect(price.message).toContain('inputPerMillion');
    const budget = configError({ ...base, budgets: [{ scope: 'global', period: 'day', usd: -5 }] });
    expect(budget.code).toBe('INVALID_ARGUMENT');
    expect(configError({ ...base, budgets: [{ scope: 'global', period: 'day' }] }).message).toContain('needs a cap');
    expect(configError({ ...base, defaultTier: 'medium' }).code).toBe('INVALID_ARGUMENT');
    expect(configError({ ...base, tiers: { large: 'gpt-9' } }).code).toBe('MODEL_NOT_FOUND');
    expect(configError({ models: MODELS, tiers: TIERS }).code).toBe('INVALID_ARGUMENT');
  });

  it('owns retries: managesRetries is true, so the runtime makes one attempt per step', async () => {
    const gateway = createGateway(base);
    expect(gateway.managesRetries).toBe(true);
    await gateway.close();
  });

  it('rejects an unknown tier or model at call time with a typed error', async () => {
    const gateway = createGateway(base);
    expect((await failure(gateway.generate(user('hi', { tier: 'huge' })))).code).toBe('INVALID_ARGUMENT');
    expect((await failure(gateway.generate(user('hi', { model: 'gpt-9' })))).code).toBe('MODEL_NOT_FOUND');
    await gateway.close();
  });
});

describe('gateway over a real OpenAI-compatible server (aimock)', () => {
  const mock = new LLMock({ port: 0 });
  let provider: OpenAIProvider;

  beforeAll(async () => {
    mock.onMessage('tight', { content: 'fits exactly', usage: { prompt_tokens: 9, completion_tokens: 50 } });
    mock.onMessage('hello', { content: 'Hello there!', usage: { prompt_tokens: 8, completion_tokens: 4 } });
    mock.onMessage('weather', { toolCalls: [{ name: 'get_weather', arguments: '{"city":"Oslo"}', id: 'call_1' }] });
    await mock.start();
    provider = new OpenAIProvider({ apiKey: 'sk-test-gateway-key', baseURL: `${mock.url}/v1` });
  });
  afterAll(async () => {
    await mock.stop();
  });

  const gatewayWith = (options: Partial<GatewayOptions> = {}) =>
    createGateway({ provider, models: MODELS, tiers: TIERS, generateId: createSequentialIds('call'), ...options });

  it('answers, streams and writes one ledger record per call with its cost', async () => {
    const gateway = gatewayWith();
    const ledger = record(gateway, 'ledger.recorded');
    const response = await gateway.generate(user('hello', { tier: 'large', scope: { agentId: 'a1', userId: 'u1' } }));
    expect(response.message.content).toBe('Hello there!');
    const parts = await drain(gateway.stream(user('hello', { scope: { agentId: 'a2', workflowId: 'w1' } })));
    expect(
      parts
        .filter((part) => part.type === 'text-delta')
        .map((part) => (part as { text: string }).text)
        .join(''),
    ).toBe('Hello there!');
    expect(ledger.map(({ record: entry }) => entry)).toMatchObject([
      {
        model: 'test-large',
        tier: 'large',
        agentId: 'a1',
        userId: 'u1',
        inputTokens: 8,
        outputTokens: 4,
        stream: false,
      },
      { model: 'test-small', tier: 'small', agentId: 'a2', workflowId: 'w1', stream: true, cacheHit: false },
    ]);
    // 8 x $10/M + 4 x $20/M
    expect(ledger[0]!.record.costUsd).toBeCloseTo(0.00016, 9);
    const report = await gateway.report();
    expect(report.total.calls).toBe(2);
    expect(report.byAgent.a1!.costUsd).toBeCloseTo(0.00016, 9);
    expect(report.byUser.u1!.calls).toBe(1);
    expect(report.byWorkflow.w1!.calls).toBe(1);
    await gateway.close();
  });

  it('100 concurrent calls against a small cap never overshoot it', async () => {
    // Worst case per call: 'tight' counts 8 prompt tokens, 9 with the 10% margin, plus 50 output
    // tokens = 59 tokens and 9 x $1/M + 50 x $2/M = $0.000109; the server answers exactly that.
    const gateway = gatewayWith({
      tiers: { small: 'test-small' },
      budgets: [{ id: 'team', scope: 'global', period: 'day', usd: 0.001, tokens: 1_000 }],
      degradation: { planOnly: false },
    });
    const reserved = record(gateway, 'budget.reserved');
    let overshoot = false;
    gateway.events.on('budget.reserved', () => {
      void gateway.budgetStatus().then((status) => {
        for (const line of status) if (line.spent + line.reserved > line.limit + 1e-12) overshoot = true;
      });
    });
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () => gateway.generate(user('tight', { maxTokens: 50 }))),
    );
    const { ok, refused } = outcomes(results, 'BUDGET_EXCEEDED');
    expect(ok + refused).toBe(100);
    expect(ok).toBe(9);
    expect(reserved).toHaveLength(9);
    const status = await gateway.budgetStatus();
    const usd = status.find((line) => line.unit === 'usd')!;
    const tokens = status.find((line) => line.unit === 'tokens')!;
    expect(usd.spent).toBeLessThanOrEqual(usd.limit);
    expect(tokens.spent).toBeLessThanOrEqual(tokens.limit);
    expect(usd.reserved).toBe(0);
    const report = await gateway.report();
    expect(report.total.costUsd).toBeLessThanOrEqual(0.001);
    expect(report.total.errors).toBe(91);
    expect(overshoot).toBe(false);
    await gateway.close();
  });

  it('reserves the model output cap when maxTokens is missing and the cap is below the allowance', async () => {
    const gateway = gatewayWith({ budgets: [{ scope: 'global', period: 'day', tokens: 1_000_000 }] });
    const reserved = record(gateway, 'budget.reserved');
    await gateway.generate(user('hello'));
    // 8 prompt tokens + 10% -> 9, plus the model's 1,000-token output cap (below the 2,048 allowance).
    expect(reserved[0]!.lines).toEqual([{ budget: 'global:day', unit: 'tokens', amount: 1_009 }]);
    const body = mock.getLastRequest()?.body as unknown as Record<string, unknown>;
    expect(body.max_tokens).toBe(1_000);
    await gateway.close();
  });

  it('without maxTokens reserves and sends the output allowance, not the model cap, and settles to the real cost', async () => {
    const big = { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 128_000, maxOutputTokens: 16_384 };
    const models = { ...MODELS, 'test-big': big, 'test-reasoning': { ...big, defaultOutputTokens: 8_000 } };
    const budgets = [{ scope: 'global' as const, period: 'day' as const, tokens: 1_000_000 }];
    const sent = () => (mock.getLastRequest()!.body as unknown as Record<string, unknown>).max_tokens;
    const gateway = gatewayWith({ models, budgets });
    const reserved = record(gateway, 'budget.reserved');
    const settled = record(gateway, 'budget.settled');
    await gateway.generate(user('hello', { model: 'test-big' }));
    // 9 prompt tokens (with the margin) + the default 2,048-token allowance, not 16,384.
    expect(reserved[0]!.lines[0]!.amount).toBe(9 + 2_048);
    expect(sent()).toBe(2_048);
    expect(settled[0]!.lines[0]!.amount).toBe(8 + 4);
    // A model's own allowance wins; a call's maxTokens wins over both (up to the model cap).
    await gateway.generate(user('hello', { model: 'test-reasoning' }));
    expect(sent()).toBe(8_000);
    await gateway.generate(user('hello', { model: 'test-big', maxTokens: 5_000 }));
    expect(sent()).toBe(5_000);
    expect(reserved.map((event) => event.lines[0]!.amount)).toEqual([9 + 2_048, 9 + 8_000, 9 + 5_000]);
    await gateway.close();
    const configured = gatewayWith({ models, budgets, defaultOutputTokens: 700 });
    await configured.generate(user('hello', { model: 'test-big' }));
    expect(sent()).toBe(700);
    await configured.close();
  });

  it('steps down the ladder: smaller tier, template answer, plan only, then BUDGET_EXCEEDED', async () => {
    const budgets = [{ id: 'agent', scope: { agentId: 'a' }, period: 'day' as const, usd: 0.0005 }];
    const scope = { agentId: 'a' };
    // large worst case: 9 x $10/M + 100 x $20/M = $0.00209 > cap; small: $0.000209 fits.
    const gateway = gatewayWith({ budgets, lowBudgetRatio: 0 });
    const degraded = record(gateway, 'gateway.degraded');
    const first = await gateway.generate(user('hello', { tier: 'large', maxTokens: 100, scope }));
    expect(first.message.content).toBe('Hello there!');
    expect(degraded).toMatchObject([
      { step: 'smaller-tier', reason: 'budget-exhausted', from: 'large', to: 'small', budget: 'agent' },
    ]);
    const ledger = await gateway.ledger.query();
    expect(ledger[0]).toMatchObject({
      model: 'test-small',
      tier: 'small',
      degradedFrom: 'large',
      degradation: 'smaller-tier',
    });

    // Nothing fits 2,000 output tokens any more: plan only (512 tokens on small = $0.001033) does not fit either.
    const refusal = await failure(gateway.generate(user('hello', { tier: 'large', scope, maxTokens: 5_000 })));
    expect(refusal.code).toBe('BUDGET_EXCEEDED');
    expect(refusal.details).toMatchObject({ budget: 'agent', unit: 'usd', limit: 0.0005 });
    expect(degraded.at(-1)).toMatchObject({ step: 'refused', reason: 'budget-exhausted' });
    await gateway.close();

    const withPlan = gatewayWith({ budgets, lowBudgetRatio: 0, degradation: { planOnlyMaxTokens: 100 } });
    const planEvents = record(withPlan, 'gateway.degraded');
    await withPlan.generate(
      user('hello', {
        tier: 'large',
        scope,
        maxTokens: 1_000,
        tools: [{ name: 't', description: 'd', parameters: {} }],
      }),
    );
    expect(planEvents.at(-1)).toMatchObject({ step: 'plan-only', to: 'small' });
    const body = mock.getLastRequest()?.body as unknown as {
      tools?: unknown;
      messages: { role: string; content: string }[];
    };
    expect(body.tools).toBeUndefined();
    expect(body.messages.at(-1)?.content).toContain('plan');
    await withPlan.close();

    const withTemplate = gatewayWith({
      budgets,
      lowBudgetRatio: 0,
      templateAnswer: (_request, info) => `Saved answer (${info.reason})`,
    });
    const templateEvents = record(withTemplate, 'gateway.degraded');
    const templated = await drain(withTemplate.stream(user('hello', { tier: 'large', scope, maxTokens: 5_000 })));
    expect(templated[0]).toEqual({ type: 'text-delta', text: 'Saved answer (budget-exhausted)' });
    expect(templateEvents.at(-1)).toMatchObject({ step: 'template' });
    expect((await withTemplate.ledger.query())[0]).toMatchObject({ costUsd: 0, degradation: 'template' });
    await withTemplate.close();
  });

  it('steps down when a budget runs low, before it runs out', async () => {
    const gateway = gatewayWith({
      budgets: [{ id: 'g', scope: 'global', period: 'day', usd: 0.004 }],
      lowBudgetRatio: 0.5,
    });
    const degraded = record(gateway, 'gateway.degraded');
    await gateway.generate(user('hello', { tier: 'large', maxTokens: 100 }));
    expect(degraded).toMatchObject([{ step: 'smaller-tier', reason: 'budget-low', from: 'large', to: 'small' }]);
    await gateway.close();
  });

  it('a provider 429 falls back to the smaller tier', async () => {
    const gateway = gatewayWith();
    const degraded = record(gateway, 'gateway.degraded');
    mock.nextRequestError(429, { message: 'slow down', type: 'rate_limit_error' });
    const response = await gateway.generate(user('hello', { tier: 'large' }));
    expect(response.message.content).toBe('Hello there!');
    expect(degraded).toMatchObject([{ step: 'smaller-tier', reason: 'rate-limited', from: 'large', to: 'small' }]);
    await gateway.close();
  });

  it("a provider 429 on the smallest tier waits the server's retry-after", async () => {
    const clock = new FakeClock(Date.UTC(2025, 0, 1));
    const gateway = gatewayWith({ clock });
    const retries = record(gateway, 'gateway.retry');
    mock.nextRequestError(429, { message: 'slow down', type: 'rate_limit_error' });
    const pending = gateway.generate(user('hello', { tier: 'small' }));
    while (retries.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(retries[0]).toMatchObject({ attempt: 1, delayMs: 1_000, error: { code: 'RATE_LIMITED' } });
    await clock.advance(1_000);
    expect((await pending).message.content).toBe('Hello there!');
    await gateway.close();
  });

  it('caches exact matches, replays a hit as a stream and charges nothing for it', async () => {
    const gateway = gatewayWith({ cache: {}, budgets: [{ scope: 'global', period: 'day', usd: 1 }] });
    const hits = record(gateway, 'cache.hit');
    const request = user('weather', {
      tools: [{ name: 'get_weather', description: 'w', parameters: { type: 'object' } }],
    });
    const first = await gateway.generate(request);
    const before = mock.getRequests().length;
    const parts = await drain(gateway.stream(request));
    expect(mock.getRequests().length).toBe(before);
    expect(hits).toHaveLength(1);
    expect(parts[0]).toMatchObject({ type: 'tool-call-delta', name: 'get_weather', argumentsDelta: '{"city":"Oslo"}' });
    const finish = parts.at(-1) as Extract<ChatStreamPart, { type: 'finish' }>;
    expect(finish.response.message).toEqual(first.message);
    const ledger = await gateway.ledger.query();
    expect(ledger[1]).toMatchObject({ cacheHit: true, costUsd: 0, inputTokens: 0 });
    await gateway.close();
  });

  it('records estimated usage for a stream cut off midway, and charges the budget for it', async () => {
    const server: FixtureServer = await startFixtureServer(() => ({
      events: [chunk({ role: 'assistant', content: 'Partial answer ' }), chunk({ content: 'that breaks' })],
      cut: true,
    }));
    try {
      const gateway = createGateway({
        provider: new OpenAIProvider({ apiKey: 'sk-test-gateway-key', baseURL: server.baseURL }),
        models: MODELS,
        tiers: TIERS,
        budgets: [{ scope: 'global', period: 'day', tokens: 100_000 }],
      });
      const settled = record(gateway, 'budget.settled');
      const seen: string[] = [];
      const error = await failure(
        (async () => {
          for await (const part of gateway.stream(user('hello'))) if (part.type === 'text-delta') seen.push(part.text);
        })(),
      );
      expect(seen.join('')).toBe('Partial answer that breaks');
      expect(error.code).toBe('MODEL_ERROR');
      const [entry] = await gateway.ledger.query();
      expect(entry).toMatchObject({ estimated: true, outputTokens: 4, error: { code: 'MODEL_ERROR' } });
      expect(entry!.inputTokens).toBeGreaterThan(0);
      expect(settled[0]).toMatchObject({ estimated: true });
      const [status] = await gateway.budgetStatus();
      expect(status!.spent).toBe(entry!.inputTokens + entry!.outputTokens);
      expect(status!.reserved).toBe(0);
      await gateway.close();
    } finally {
      await server.close();
    }
  });
});

describe('ledger writes', () => {
  it('report() and close() wait for ledger appends still in flight', async () => {
    const appended: string[] = [];
    const inner = new InMemoryLedger();
    const slowLedger = {
      append: async (entry: Parameters<InMemoryLedger['append']>[0]) => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        appended.push(entry.id);
        await inner.append(entry);
      },
      query: (query: Parameters<InMemoryLedger['query']>[0]) => inner.query(query),
      close: () => inner.close(),
    };
    const gateway = createGateway({
      provider: new MockLLM({ fallback: { text: 'ok' } }),
      models: MODELS,
      tiers: TIERS,
      ledger: slowLedger,
    });
    await gateway.generate(user('hi'));
    expect(appended).toHaveLength(0);
    expect((await gateway.report()).total.calls).toBe(1);
    void gateway.generate(user('again'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await gateway.close();
    expect(appended).toHaveLength(2);
  });
});
