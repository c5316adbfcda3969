// The gateway logs through the injected logger, pino's way (`logger.warn(fields, message)`), at
// levels an operator can filter on: retries and refusals warn, degradation is info, a budget or
// ledger write that fails is an error. (Released reservations: reservations.test.ts.)
import { AgentrixError, type ChatRequest, createSequentialIds, type Logger } from '@agentrix/core';
import { MockLLM } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';
import { InMemoryBudgetStore } from './budget-store.js';
import { createGateway } from './gateway.js';
import type { GatewayOptions } from './gateway-options.js';
import { InMemoryLedger } from './ledger.js';

const MODELS = {
  'test-large': { inputPerMillion: 10, outputPerMillion: 20, contextWindow: 8_000, maxOutputTokens: 1_000 },
  'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 1_000 },
};
const TIERS = { large: 'test-large', small: 'test-small' };
const hello = (extra: Partial<ChatRequest> = {}): ChatRequest => ({
  messages: [{ role: 'user', content: 'hello' }],
  ...extra,
});

interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

function gatewayWith(options: Partial<GatewayOptions>) {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (fields: Record<string, unknown>, message: string) =>
    lines.push({ level, message, fields });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const gateway = createGateway({
    provider: new MockLLM({ fallback: { text: 'ok', usage: { inputTokens: 9, outputTokens: 10 } } }),
    models: MODELS,
    tiers: TIERS,
    generateId: createSequentialIds('call'),
    retry: { attempts: 2, baseDelayMs: 0, maxDelayMs: 0 },
    logger,
    ...options,
  });
  return { gateway, lines };
}

describe('gateway logs', () => {
  it('a retry is a warning with callId, model, attempt, delayMs and code', async () => {
    const provider = new MockLLM({
      script: [{ error: new AgentrixError('MODEL_ERROR', 'upstream 503', { retryable: true }) }],
      fallback: { text: 'ok' },
    });
    const { gateway, lines } = gatewayWith({ provider, tiers: { small: 'test-small' } });
    await gateway.generate(hello());
    expect(lines).toEqual([
      {
        level: 'warn',
        message: 'gateway: retrying a model call',
        fields: { callId: 'call-1', model: 'test-small', attempt: 1, delayMs: 0, code: 'MODEL_ERROR' },
      },
    ]);
    await gateway.close();
  });

  it('a step down the ladder is info; a refusal is a warning naming the budget and the scope', async () => {
    const { gateway, lines } = gatewayWith({
      budgets: [{ id: 'agent', scope: { agentId: 'a' }, period: 'day', usd: 0.0005 }],
      lowBudgetRatio: 0,
      degradation: { planOnly: false },
    });
    const scope = { agentId: 'a' };
    await gateway.generate(hello({ tier: 'large', maxTokens: 100, scope }));
    await expect(gateway.generate(hello({ tier: 'large', maxTokens: 5_000, scope }))).rejects.toMatchObject({
      code: 'BUDGET_EXCEEDED',
    });
    expect(lines).toEqual([
      {
        level: 'info',
        message: 'gateway: degraded a call (smaller-tier, budget-exhausted)',
        fields: expect.objectContaining({ callId: 'call-1', step: 'smaller-tier', from: 'large', to: 'small' }),
      },
      expect.objectContaining({ level: 'info', fields: expect.objectContaining({ callId: 'call-2' }) }),
      {
        level: 'warn',
        message: 'gateway: a budget refused a call',
        fields: { callId: 'call-2', budget: 'agent', scope, code: 'BUDGET_EXCEEDED', requested: 'large' },
      },
    ]);
    await gateway.close();
  });

  it('a settle or a ledger append that fails is an error with the call id and the serialized error', async () => {
    const store = new InMemoryBudgetStore();
    store.settle = async () => {
      throw new AgentrixError('STORE_UNAVAILABLE', 'the budget store is down');
    };
    const ledger = new InMemoryLedger();
    ledger.append = async () => {
      throw new AgentrixError('STORE_UNAVAILABLE', 'the ledger is down');
    };
    const { gateway, lines } = gatewayWith({
      budgets: [{ scope: 'global', period: 'day', usd: 1 }],
      budgetStore: store,
      ledger,
    });
    expect((await gateway.generate(hello())).message.content).toBe('ok');
    await gateway.close();
    expect(lines).toEqual([
      {
        level: 'error',
        message: 'gateway: could not settle a budget reservation',
        fields: {
          callId: 'call-1',
          reservationId: expect.any(String),
          error: expect.objectContaining({ code: 'STORE_UNAVAILABLE', message: 'the budget store is down' }),
        },
      },
      {
        level: 'error',
        message: 'gateway: could not append a ledger record',
        fields: {
          callId: 'call-1',
          ledgerId: 'call-1',
          error: expect.objectContaining({ code: 'STORE_UNAVAILABLE', message: 'the ledger is down' }),
        },
      },
    ]);
  });
});
