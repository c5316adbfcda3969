import { InMemoryBus } from '@agentrix/bus';
import { createGateway } from '@agentrix/gateway';
import { createAgentrix } from '@agentrix/runtime';
import { FakeClock, MockLLM } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';

// Issue 12, item 7, with the real gateway: a spent daily budget pauses the agent with a reason,
// the message waits (nothing dead-lettered, nothing lost), ask() says why at once, and the agent
// answers by itself once the UTC day rolls over.
describe('budget pause with the gateway', () => {
  it('pauses on a spent day budget and resumes by itself on the next day', async () => {
    const clock = new FakeClock(Date.parse('2026-03-01T22:00:00Z'));
    // The first answer reports a huge usage: it spends the whole day's budget.
    const provider = new MockLLM({
      script: [{ text: 'first', usage: { inputTokens: 1_000_000, outputTokens: 1_000_000 } }],
      fallback: { text: 'next day' },
    });
    const gateway = createGateway({
      provider,
      clock,
      budgets: [{ scope: 'global', period: 'day', usd: 0.5 }],
      degradation: { planOnly: false },
    });
    const bus = new InMemoryBus({ clock });
    await using agentrix = await createAgentrix({ model: gateway, bus, clock, budgetRetryMs: 15 * 60_000 });
    await agentrix.create({ id: 'a1' });

    // The next answer sent to `outside` (an error reply only says why an answer is late).
    const answer = async (): Promise<string> => {
      for (;;) {
        const [delivery] = await bus.read('outside', { max: 1 });
        await bus.ack('outside', [delivery!.deliveryId]);
        if (delivery!.envelope.type === 'reply') return delivery!.envelope.content;
        expect(delivery!.envelope).toMatchObject({ type: 'error', data: { error: { code: 'BUDGET_EXCEEDED' } } });
      }
    };
    await agentrix.send({ to: 'a1', content: 'one', replyTo: 'outside' });
    expect(await answer()).toBe('first');
    await agentrix.send({ to: 'a1', content: 'two', replyTo: 'outside' });
    await expect.poll(() => agentrix.get('a1').state, { timeout: 5_000, interval: 5 }).toBe('paused');
    expect(agentrix.get('a1').pause).toMatchObject({ kind: 'budget', error: { code: 'BUDGET_EXCEEDED' } });
    await expect(agentrix.ask('a1', 'three?')).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(provider.calls).toBe(1);

    // Still the same day: it tries again, is refused again (no provider call), stays paused.
    await clock.advance(15 * 60_000);
    await expect.poll(() => agentrix.get('a1').state, { timeout: 5_000, interval: 5 }).toBe('paused');
    expect(provider.calls).toBe(1);
    // Past midnight UTC the day's budget is new: the held message is answered.
    await clock.advance(2 * 60 * 60_000);
    expect(await answer()).toBe('next day');
    expect((await bus.stats('a1')).deadLetters).toBe(0);
    await gateway.close();
  });
});
