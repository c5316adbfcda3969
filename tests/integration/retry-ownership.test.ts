import { InMemoryBus } from '@agentrix/bus';
import { AgentrixError } from '@agentrix/core';
import { createGateway } from '@agentrix/gateway';
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';

// Issue 12, item 6: when the model is the gateway, exactly one layer retries. The provider is a
// MockLLM (the LLM boundary) that always fails with a retryable error; we count what reaches it.
const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

describe('one owner of model retries', () => {
  it('a gateway model is called once per step by the runtime: the provider sees the gateway attempts only', async () => {
    const provider = new MockLLM({
      fallback: { error: new AgentrixError('MODEL_ERROR', 'upstream 503', { retryable: true }) },
    });
    const gateway = createGateway({ provider, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
    expect(gateway.managesRetries).toBe(true);
    const bus = new InMemoryBus({ maxDeliveries: 1 });
    await using agentrix = await createAgentrix({ model: gateway, bus });
    await agentrix.create({ id: 'a1', modelRetry: fast });
    await expect(agentrix.ask('a1', 'hi', { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'MODEL_ERROR' });
    // 2 (the gateway's attempts), not 3 x 2 = 6 as when both layers retried.
    expect(provider.calls).toBe(2);
    const report = await gateway.report();
    expect(report.total.calls).toBeLessThanOrEqual(2);
    await gateway.close();
    await bus.close();
  });

  it('a plain model is retried by the runtime (modelRetry)', async () => {
    const provider = new MockLLM({
      fallback: { error: new AgentrixError('MODEL_ERROR', 'upstream 503', { retryable: true }) },
    });
    const bus = new InMemoryBus({ maxDeliveries: 1 });
    await using agentrix = await createAgentrix({ model: provider, bus });
    await agentrix.create({ id: 'a1', modelRetry: fast });
    await expect(agentrix.ask('a1', 'hi', { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'MODEL_ERROR' });
    expect(provider.calls).toBe(3);
    await bus.close();
  });
});
