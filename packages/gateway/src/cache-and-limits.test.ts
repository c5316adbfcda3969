import { AgentrixError, type ChatRequest } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import { FakeClock, MockLLM } from '@agentrix/testing';
import { describe, expect, it, vi } from 'vitest';
import { responseCacheKey } from './cache-key.js';
import { createGateway } from './gateway.js';
import { fitPrompt } from './prompt-budget.js';

const MODELS = {
  'test-large': { inputPerMillion: 10, outputPerMillion: 20, contextWindow: 8_000, maxOutputTokens: 1_000 },
  'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 1_000 },
  'test-tiny': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 120, maxOutputTokens: 20 },
};
const TIERS = { large: 'test-large', small: 'test-small' };

describe('response cache key', () => {
  const base: ChatRequest = {
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi', name: 'host' },
    ],
    tools: [{ name: 't', description: 'd', parameters: { type: 'object', properties: { a: { type: 'string' } } } }],
    toolChoice: 'auto',
    maxTokens: 100,
    temperature: 0,
    topP: 1,
    seed: 1,
    stop: ['END'],
    responseFormat: { type: 'json_object' },
    providerOptions: { reasoning_effort: 'low' },
  };
  const key = responseCacheKey('m', base);

  it('changes with every parameter that changes the answer', () => {
    const variants: [string, string, ChatRequest][] = [
      ['model', 'm2', base],
      ['message content', 'm', { ...base, messages: [base.messages[0]!, { role: 'user', content: 'hi!' }] }],
      ['message name', 'm', { ...base, messages: [base.messages[0]!, { role: 'user', content: 'hi', name: 'bob' }] }],
      ['tools', 'm', { ...base, tools: [{ ...base.tools![0]!, description: 'other' }] }],
      ['tool choice', 'm', { ...base, toolChoice: 'required' }],
      ['max tokens', 'm', { ...base, maxTokens: 101 }],
      ['temperature', 'm', { ...base, temperature: 0.5 }],
      ['top_p', 'm', { ...base, topP: 0.9 }],
      ['seed', 'm', { ...base, seed: 2 }],
      ['stop', 'm', { ...base, stop: ['STOP'] }],
      ['response format', 'm', { ...base, responseFormat: { type: 'text' } }],
      ['reasoning effort', 'm', { ...base, providerOptions: { reasoning_effort: 'high' } }],
      ['other provider option', 'm', { ...base, providerOptions: { reasoning_effort: 'low', user: 'x' } }],
    ];
    const keys = new Set([key]);
    for (const [what, model, request] of variants) {
      const variant = responseCacheKey(model, request);
      expect(variant, what).not.toBe(key);
      keys.add(variant);
    }
    expect(keys.size).toBe(variants.length + 1);
  });

  it('ignores what does not reach the provider and the order of object keys', () => {
    expect(
      responseCacheKey('m', { ...base, scope: { agentId: 'x', workflowId: 'w', tags: ['t'] }, tier: 'small' }),
    ).toBe(key);
    expect(responseCacheKey('m', { ...base, providerOptions: { reasoning_effort: 'low' } })).toBe(key);
    const reordered = { ...base, tools: [{ parameters: base.tools![0]!.parameters, description: 'd', name: 't' }] };
    expect(responseCacheKey('m', reordered)).toBe(key);
  });

  it("keeps one user's answers from another's: the scope's userId is part of the key", async () => {
    const ada = responseCacheKey('m', { ...base, scope: { userId: 'ada' } });
    expect(ada).not.toBe(key);
    expect(responseCacheKey('m', { ...base, scope: { userId: 'bob' } })).not.toBe(ada);
    expect(responseCacheKey('m', { ...base, scope: { userId: 'ada', agentId: 'other' } })).toBe(ada);

    // The provider never sees the scope: each answer is numbered to tell them apart.
    const provider = new MockLLM({ fallback: (_request, index) => ({ text: `answer ${index}` }) });
    const gateway = createGateway({ provider, models: MODELS, tiers: TIERS, cache: { maxEntries: 10 } });
    const ask = async (userId: string, agentId: string) =>
      (await gateway.generate({ ...base, scope: { userId, agentId } })).message.content;
    expect(await ask('ada', 'a1')).toBe('answer 0');
    expect(await ask('bob', 'a1')).toBe('answer 1');
    // The same user through another agent shares the cached answer.
    expect(await ask('ada', 'a2')).toBe('answer 0');
    expect(provider.calls).toBe(2);
    await gateway.close();
  });

  it('a changed parameter misses the gateway cache', async () => {
    const provider = new MockLLM({ fallback: { text: 'answer' } });
    const gateway = createGateway({ provider, models: MODELS, tiers: TIERS, cache: { maxEntries: 10 } });
    await gateway.generate(base);
    await gateway.generate(base);
    expect(provider.calls).toBe(1);
    await gateway.generate({ ...base, temperature: 0.7 });
    await gateway.generate({ ...base, providerOptions: { reasoning_effort: 'high' } });
    await gateway.generate({ ...base, tier: 'large' });
    expect(provider.calls).toBe(4);
    await gateway.close();
  });
});

describe('rate limits', () => {
  it('fails with RATE_LIMITED when a call would wait longer than allowed', async () => {
    const clock = new FakeClock(Date.UTC(2025, 0, 1));
    const gateway = createGateway({
      provider: new MockLLM({ fallback: { text: 'ok' } }),
      models: MODELS,
      tiers: TIERS,
      clock,
      rateLimits: [{ id: 'per-agent', scope: { agentId: '*' }, callsPerMinute: 2 }],
    });
    const scope = { agentId: 'a' };
    const request: ChatRequest = { messages: [{ role: 'user', content: 'hi' }], scope };
    await gateway.generate(request);
    await gateway.generate(request);
    const error = await gateway.generate(request).catch((thrown: unknown) => thrown);
    expect(AgentrixError.isInstance(error) && error.code).toBe('RATE_LIMITED');
    expect((error as AgentrixError).retryAfterMs).toBe(30_000);
    // Another agent has its own bucket.
    await gateway.generate({ ...request, scope: { agentId: 'b' } });
    await clock.advance(30_000);
    await gateway.generate(request);
    await gateway.close();
  });

  it('waits for room up to maxWaitMs, counting tokens', async () => {
    const clock = new FakeClock(Date.UTC(2025, 0, 1));
    const gateway = createGateway({
      provider: new MockLLM({ fallback: { text: 'ok', usage: { inputTokens: 10, outputTokens: 90 } } }),
      models: MODELS,
      tiers: TIERS,
      clock,
      rateLimits: [{ scope: 'global', tokensPerMinute: 600, maxWaitMs: 60_000 }],
    });
    const waits: number[] = [];
    gateway.events.on('rate.limited', (event) => waits.push(event.waitMs));
    const request: ChatRequest = { messages: [{ role: 'user', content: 'hi' }], maxTokens: 300 };
    // Each call takes ~310 tokens up front and gives back the ~210 it did not use, so several
    // calls pass before one has to wait (without refunds only the first would).
    let calls = 0;
    let pending: Promise<unknown> | undefined;
    while (waits.length === 0 && calls < 10) {
      calls++;
      pending = gateway.generate(request);
      for (let tick = 0; tick < 5; tick++) await new Promise((resolve) => setImmediate(resolve));
      if (waits.length === 0) await pending;
    }
    expect(calls).toBeGreaterThan(2);
    expect(waits[0]).toBeGreaterThan(0);
    await clock.advance(waits[0]!);
    await pending;
    await gateway.close();
  });
});

describe('prompt budget', () => {
  it('drops the oldest messages, keeping the system prompt, tool pairs and the newest turn', async () => {
    const result = await fitPrompt({
      model: 'm',
      budget: 60,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'one two three four five six seven eight nine ten' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'lookup', arguments: '{"q":"x"}' }] },
        { role: 'tool', toolCallId: 'c1', name: 'lookup', content: 'eleven twelve thirteen fourteen fifteen' },
        { role: 'assistant', content: 'Done with the lookup.' },
        { role: 'user', content: 'And now?' },
      ],
    });
    expect(result.dropped).toBeGreaterThan(0);
    expect(result.messages[0]).toEqual({ role: 'system', content: 'You are terse.' });
    expect(result.messages.at(-1)).toEqual({ role: 'user', content: 'And now?' });
    expect(result.messages.some((message) => message.role === 'tool')).toBe(
      result.messages.some((message) => message.role === 'assistant' && message.toolCalls),
    );
    expect(result.tokensAfter).toBeLessThanOrEqual(60);
  });

  it('lets a hook summarise the dropped messages, and fails with CONTEXT_LENGTH_EXCEEDED when nothing fits', async () => {
    const provider = new MockLLM({ fallback: { text: 'ok' } });
    const dropped: number[] = [];
    const gateway = createGateway({
      provider,
      models: MODELS,
      tiers: { tiny: 'test-tiny' },
      compact: (messages) => {
        dropped.push(messages.length);
        return { role: 'system', content: 'Summary: earlier talk.' };
      },
    });
    const trimmed: number[] = [];
    gateway.events.on('prompt.trimmed', (event) => trimmed.push(event.droppedMessages));
    const long = 'word '.repeat(45);
    await gateway.generate({
      messages: [
        { role: 'user', content: long },
        { role: 'assistant', content: long },
        { role: 'user', content: 'short question' },
      ],
    });
    expect(dropped).toEqual([1]);
    expect(trimmed).toEqual([1]);
    expect(provider.lastRequest?.messages).toEqual([
      { role: 'system', content: 'Summary: earlier talk.' },
      { role: 'assistant', content: long },
      { role: 'user', content: 'short question' },
    ]);
    const error = await gateway
      .generate({ messages: [{ role: 'user', content: 'word '.repeat(200) }] })
      .catch((e) => e);
    expect(AgentrixError.isInstance(error) && error.code).toBe('CONTEXT_LENGTH_EXCEEDED');
    await gateway.close();
  });
});

describe('wired into the runtime', () => {
  it('createAgentrix({ gateway }): agents ask for a tier and are charged to their scope', async () => {
    const provider = new MockLLM({ fallback: { text: 'Done.', usage: { inputTokens: 100, outputTokens: 20 } } });
    const gateway = createGateway({
      provider,
      models: MODELS,
      tiers: TIERS,
      budgets: [{ id: 'team', scope: 'global', period: 'day', usd: 20 }],
    });
    const agentrix = await createAgentrix({ gateway });
    await agentrix.create({ id: 'worker', tier: 'large', scope: { userId: 'u1', workflowId: 'launch' } });
    const reply = await agentrix.ask('worker', 'Do the task');
    expect(reply.content).toBe('Done.');
    expect(provider.lastRequest?.model).toBe('test-large');
    // The runtime replies as soon as the finish part arrives; the gateway settles and meters as
    // the stream closes, just after.
    await vi.waitFor(async () => {
      const report = await gateway.report();
      expect(report.byAgent.worker).toMatchObject({ calls: 1, inputTokens: 100, outputTokens: 20 });
      expect(report.byUser.u1!.costUsd).toBeCloseTo(0.0014, 9);
      expect(report.byWorkflow.launch!.calls).toBe(1);
      const [team] = await gateway.budgetStatus();
      expect(team).toMatchObject({ budget: 'team', unit: 'usd', limit: 20, reserved: 0 });
      expect(team!.spent).toBeCloseTo(0.0014, 9);
    });
    await agentrix.close();
    await gateway.close();
  });
});
