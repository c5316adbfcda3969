import { AgentrixError } from '@agentrix/core';
import { FakeClock, MockLLM } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';
import { AgentManager } from './agent-manager.js';
import { manager, until } from './fixtures/managers.js';
import { InMemoryAgentRegistry } from './in-memory-agent-registry.js';

// What a 24/7 operator gets when work fails (issue 12, item 7); the per-message cases (redelivery,
// dead letter, systemic errors) are in agent-manager.test.ts.

const spent = () =>
  new AgentrixError('BUDGET_EXCEEDED', 'Budget "agent:a1:day" cannot cover this call', {
    retryable: false,
    details: { budget: 'agent:a1:day' },
  });

describe('failure policy', () => {
  it('a spent budget pauses the agent with a reason, keeps the message, and resumes by itself', async () => {
    const model = new MockLLM({ script: [{ error: spent() }, { error: spent() }, { text: 'answered later' }] });
    const agentrix = manager({ model, budgetRetryMs: 80 });
    await agentrix.create({ id: 'a1' });
    await agentrix.send({ to: 'a1', content: 'work', replyTo: 'outside' });
    await until(() => agentrix.get('a1').state === 'paused');
    expect(agentrix.get('a1')).toMatchObject({
      state: 'paused',
      pause: { kind: 'budget', error: { code: 'BUDGET_EXCEEDED' }, resumesAt: expect.any(Number) },
    });
    // Nothing is lost, nothing is dead-lettered: the message waits with the agent.
    const stats = await agentrix.bus.stats('a1');
    expect(stats.deadLetters).toBe(0);
    // An asker learns why at once instead of waiting for its timeout.
    const started = Date.now();
    await expect(agentrix.ask('a1', 'are you there?', { timeoutMs: 10_000 })).rejects.toMatchObject({
      code: 'BUDGET_EXCEEDED',
      message: expect.stringMatching(/budget is spent/),
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    // The sender heard why at once (an error reply)...
    const [notice] = await agentrix.bus.read('outside', { blockMs: 5_000 });
    expect(notice?.envelope).toMatchObject({ type: 'error', data: { error: { code: 'BUDGET_EXCEEDED' } } });
    await agentrix.bus.ack('outside', [notice!.deliveryId]);
    // ...then it tries again every budgetRetryMs (a second refusal re-pauses it, silently) and answers.
    const [reply] = await agentrix.bus.read('outside', { blockMs: 5_000 });
    expect(reply?.envelope).toMatchObject({ type: 'reply', content: 'answered later' });
    await agentrix.waitForIdle();
    expect(agentrix.get('a1')).toMatchObject({ state: 'idle', pause: undefined, turns: 1 });
  });

  it('a host pause during a budget pause wins: no automatic resume', async () => {
    const model = new MockLLM({ script: [{ error: spent() }, { text: 'after resume' }] });
    const clock = new FakeClock();
    const agentrix = manager({ model, budgetRetryMs: 30, clock });
    await agentrix.create({ id: 'a1' });
    await agentrix.send({ to: 'a1', content: 'work' });
    await until(() => agentrix.get('a1').pause?.kind === 'budget');
    expect(agentrix.get('a1').pause?.resumesAt).toBe(clock.now() + 30);
    agentrix.pause('a1');
    await clock.advance(1_000); // well past the automatic resume
    expect(agentrix.get('a1')).toMatchObject({ state: 'paused', pause: { kind: 'host' }, turns: 0 });
    agentrix.resume('a1');
    await until(() => agentrix.get('a1').turns === 1);
  });

  it('a restored budget pause resumes by itself; a restored host pause does not', async () => {
    const registry = new InMemoryAgentRegistry();
    const model = new MockLLM({ fallback: { error: spent() } });
    const first = new AgentManager({ model, registry, budgetRetryMs: 60_000 });
    await first.create({ id: 'a1' });
    await first.create({ id: 'a2' });
    first.pause('a2');
    await first.send({ to: 'a1', content: 'work' });
    await until(() => first.get('a1').pause?.kind === 'budget');
    await first.close();
    expect((await registry.load('a1'))?.lastError?.code).toBe('BUDGET_EXCEEDED');

    const second = manager({ model: new MockLLM({ fallback: { text: 'ok' } }), registry, budgetRetryMs: 50 });
    await second.restore();
    expect(second.get('a1').pause).toMatchObject({ kind: 'budget' });
    expect(second.get('a2').pause).toMatchObject({ kind: 'host' });
    await until(() => second.get('a1').state === 'idle');
    expect(second.get('a2').state).toBe('paused');
  });
});
