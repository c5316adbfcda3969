import { AgentrixError } from '@agentrix/core';
import { MockLLM } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';
import { createGateway } from './gateway.js';

const MODELS = {
  'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 100 },
};

function gateway() {
  return createGateway({
    provider: new MockLLM({ fallback: { text: 'ok' } }),
    models: MODELS,
    tiers: { small: 'test-small' },
    cache: false,
    budgets: [{ id: 'team', scope: 'global', period: 'day', tokens: 50 }],
  });
}

describe('gateway.setBudget', () => {
  it('raises a spent cap at run time: the next call goes through, what was spent stays', async () => {
    const g = gateway();
    // One call reserves its prompt plus the 100-token output cap: over a 50-token cap.
    const refused = await g.generate({ messages: [{ role: 'user', content: 'hi' }] }).catch((error) => error);
    expect(AgentrixError.isInstance(refused) && refused.code).toBe('BUDGET_EXCEEDED');
    g.setBudget('team', { tokens: 10_000 });
    await g.generate({ messages: [{ role: 'user', content: 'hi' }] });
    const [status] = await g.budgetStatus();
    expect(status).toMatchObject({ budget: 'team', limit: 10_000 });
    expect(status!.spent).toBeGreaterThan(0);
    await g.close();
  });

  it('an unknown id is NOT_FOUND and a bad cap INVALID_ARGUMENT, the cap unchanged', async () => {
    const g = gateway();
    expect(() => g.setBudget('nope', { usd: 1 })).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    for (const caps of [{}, { usd: -1 }, { tokens: 1.5 }, { usd: Number.NaN }]) {
      expect(() => g.setBudget('team', caps)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    const [status] = await g.budgetStatus();
    expect(status!.limit).toBe(50);
    await g.close();
  });
});
