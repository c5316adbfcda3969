// Every answer the provider sent is charged, including one that cannot be read (a malformed 200
// body), and every attempt the gateway retries gets its own ledger record and charge.
import { type AgentrixError, createSequentialIds } from '@agentrix/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from './gateway.js';
import type { GatewayEventMap } from './gateway-events.js';
import type { GatewayOptions } from './gateway-options.js';
import { OpenAIProvider } from './openai-provider.js';
import {
  completion,
  type FixtureReply,
  type FixtureServer,
  startFixtureServer,
} from './test-support/openai-fixture-server.js';
import { failure, user } from './test-support/requests.js';
import { countPromptTokens, countTextTokens } from './tokens.js';

const MODELS = {
  'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 1_000 },
};
const TIERS = { small: 'test-small' };

/** A 200 whose JSON has a usage but no choices: the provider billed 40 + 30 tokens. */
const NO_CHOICES: FixtureReply = {
  json: { id: 'x', object: 'chat.completion', usage: { prompt_tokens: 40, completion_tokens: 30 } },
};
/** A 200 cut off mid-body: nothing to read but the text seen so far. */
const TRUNCATED: FixtureReply = {
  raw: '{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello wor',
  contentType: 'application/json',
};
const GOOD: FixtureReply = { json: completion('fine', { prompt_tokens: 8, completion_tokens: 4 }) };

describe('every answered call is charged', () => {
  let server: FixtureServer;
  /** Replies per test, in order; the last one repeats. */
  let script: FixtureReply[] = [];
  beforeAll(async () => {
    server = await startFixtureServer(() => (script.length > 1 ? script.shift()! : script[0]!));
  });
  afterAll(async () => {
    await server.close();
  });

  const gatewayWith = (options: Partial<GatewayOptions>) => {
    const gateway = createGateway({
      provider: new OpenAIProvider({ apiKey: 'test-key', baseURL: server.baseURL }),
      models: MODELS,
      tiers: TIERS,
      generateId: createSequentialIds('call'),
      retry: { attempts: 2, baseDelayMs: 0, maxDelayMs: 0 },
      ...options,
    });
    const settled: GatewayEventMap['budget.settled'][] = [];
    gateway.events.on('budget.settled', (event) => settled.push(event));
    return { gateway, settled };
  };

  it('a malformed answer that is retried is charged the usage it reported, with a ledger record of its own', async () => {
    script = [NO_CHOICES, GOOD];
    const { gateway, settled } = gatewayWith({ budgets: [{ scope: 'global', period: 'day', tokens: 100_000 }] });
    const before = server.requests.length;
    expect((await gateway.generate(user('hello'))).message.content).toBe('fine');
    expect(server.requests.length - before).toBe(2);
    const ledger = await gateway.ledger.query();
    expect(ledger).toMatchObject([
      {
        id: 'call-1/1',
        inputTokens: 40,
        outputTokens: 30,
        estimated: false,
        costUsd: (40 * 1 + 30 * 2) / 1e6,
        error: { code: 'MODEL_RESPONSE_INVALID' },
      },
      { id: 'call-1', inputTokens: 8, outputTokens: 4, estimated: false },
    ]);
    expect(ledger[1]!.error).toBeUndefined();
    expect(settled.map((event) => event.lines[0]!.amount)).toEqual([70, 12]);
    const [status] = await gateway.budgetStatus();
    expect(status).toMatchObject({ spent: 82, reserved: 0 });
    await gateway.close();
  });

  it('a body that does not parse is charged an estimate (prompt plus the text seen) on every attempt', async () => {
    script = [TRUNCATED];
    const { gateway } = gatewayWith({ budgets: [{ scope: 'global', period: 'day', usd: 1 }] });
    const error = await failure(gateway.generate(user('hello')));
    expect(error.code).toBe('MODEL_RESPONSE_INVALID');
    const expected = { inputTokens: countPromptTokens(user('hello')), outputTokens: countTextTokens('Hello wor') };
    const ledger = await gateway.ledger.query();
    expect(ledger).toMatchObject([
      { id: 'call-1/1', ...expected, estimated: true, error: { code: 'MODEL_RESPONSE_INVALID' } },
      { id: 'call-1', ...expected, estimated: true, error: { code: 'MODEL_RESPONSE_INVALID' } },
    ]);
    const [status] = await gateway.budgetStatus();
    expect(status!.reserved).toBe(0);
    expect(status!.spent).toBeCloseTo(2 * ((expected.inputTokens * 1 + expected.outputTokens * 2) / 1e6), 12);
    const report = await gateway.report();
    expect(report.total.costUsd).toBeCloseTo(status!.spent, 12);
    await gateway.close();
  });

  it('a retry the budget cannot cover any more is refused: spend stays under the cap', async () => {
    script = [NO_CHOICES, GOOD];
    // One attempt reserves 9 + 100 = 109 tokens; the malformed one spent 70, so a second does not fit 150.
    const { gateway } = gatewayWith({ budgets: [{ scope: 'global', period: 'day', tokens: 150 }] });
    const before = server.requests.length;
    const error = await failure(gateway.generate(user('hello', { maxTokens: 100 })));
    expect(error.code).toBe('BUDGET_EXCEEDED');
    expect((error.cause as AgentrixError).code).toBe('MODEL_RESPONSE_INVALID');
    expect(server.requests.length - before).toBe(1);
    const [status] = await gateway.budgetStatus();
    expect(status).toMatchObject({ spent: 70, reserved: 0 });
    expect((await gateway.ledger.query()).map((entry) => [entry.id, entry.error?.code])).toEqual([
      ['call-1/1', 'MODEL_RESPONSE_INVALID'],
      ['call-1', 'BUDGET_EXCEEDED'],
    ]);
    await gateway.close();
  });

  it('without budgets a malformed answer is still metered at its cost', async () => {
    script = [NO_CHOICES];
    const { gateway } = gatewayWith({ retry: { attempts: 1 } });
    expect((await failure(gateway.generate(user('hello')))).code).toBe('MODEL_RESPONSE_INVALID');
    const [entry] = await gateway.ledger.query();
    expect(entry).toMatchObject({ inputTokens: 40, outputTokens: 30, costUsd: 0.0001 });
    await gateway.close();
  });
});
