import { InMemoryBus } from '@agentrix/bus';
import type { TurnCommit } from '@agentrix/core';
import { ForwardingBus } from '@agentrix/core/implement';
import { MockLLM } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';
import { AgentManager } from './agent-manager.js';
import { InMemoryAgentRegistry } from './in-memory-agent-registry.js';
import { InMemoryContextStore } from './in-memory-context-store.js';

describe('turn commit hooks', () => {
  it('run after the reply is sent and before the context is saved and the message acked', async () => {
    const bus = new InMemoryBus();
    const contextStore = new InMemoryContextStore();
    const seen: { commit: TurnCommit; saved: boolean; inFlight: number; replied: number }[] = [];
    const agentrix = new AgentManager({
      bus,
      contextStore,
      model: new MockLLM({ fallback: { text: 'answer' } }),
      onTurnCommit: async (commit) => {
        const outside = await bus.stats('outside');
        seen.push({
          commit,
          saved: (await contextStore.load('a1', 'main')) !== undefined,
          inFlight: (await bus.stats('a1')).inFlight,
          replied: outside.unread + outside.inFlight,
        });
      },
    });
    await agentrix.create({ id: 'a1', scope: { userId: 'u1' } });
    const sent = await agentrix.send({ to: 'a1', content: 'question', replyTo: 'outside' });
    await bus.read('outside', { blockMs: 5_000 });
    await agentrix.waitForIdle();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ saved: false, inFlight: 1, replied: 1 });
    expect(seen[0]?.commit).toMatchObject({
      agentId: 'a1',
      threadId: 'main',
      messageId: sent.id,
      scope: { agentId: 'a1', userId: 'u1' },
      input: { role: 'user', content: 'question' },
      reply: 'answer',
    });
    await agentrix.close();
    await bus.close();
  });

  it('waits for an ack the bus does not do at once; a failed one gives the message back', async () => {
    const order: string[] = [];
    let failures = 1;
    // A real bus whose ack completes later (as over Redis or SQL), the first one failing.
    class LateAckBus extends ForwardingBus {
      override ackNow(inbox: string, deliveryIds: readonly string[]): Promise<void> {
        return new Promise((resolve) => setTimeout(resolve, 5)).then(() => {
          order.push(failures > 0 ? 'ack failed' : 'acked');
          if (failures-- > 0) throw new Error('ack lost');
          return this.inner.ack(inbox, deliveryIds);
        });
      }
    }
    const inner = new InMemoryBus();
    const agentrix = new AgentManager({ bus: new LateAckBus(inner), model: new MockLLM({ fallback: { text: 'ok' } }) });
    agentrix.events.on('turn.completed', () => order.push('completed'));
    agentrix.events.on('turn.failed', (event) => order.push(`failed: ${event.error.message}`));
    await agentrix.create({ id: 'a1' });
    await agentrix.send({ to: 'a1', content: 'question' });
    await agentrix.waitForIdle();
    expect(order).toEqual(['ack failed', 'failed: ack lost', 'acked', 'completed']);
    expect(agentrix.get('a1').turns).toBe(1);
    expect(await inner.stats('a1')).toMatchObject({ unread: 0, inFlight: 0 });
    await agentrix.close();
    await inner.close();
  });

  it('a hook that throws fails the turn: the message is redelivered and committed once the hook succeeds', async () => {
    let calls = 0;
    const agentrix = new AgentManager({
      model: new MockLLM({ fallback: { text: 'answer' } }),
      onTurnCommit: () => {
        calls++;
        if (calls === 1) throw new Error('memory store down');
      },
    });
    await agentrix.create({ id: 'a1' });
    await agentrix.send({ to: 'a1', content: 'question' });
    await agentrix.waitForIdle();
    expect(calls).toBe(2);
    expect(agentrix.get('a1')).toMatchObject({
      turns: 1,
      lastError: { message: expect.stringMatching(/memory store down/) },
    });
    expect((await agentrix.contexts.load('a1')).turns).toBe(1);
    await agentrix.close();
  });

  it('a stop during the commit lets the commit finish: the turn is not given back and replayed', async () => {
    const bus = new InMemoryBus();
    const contextStore = new InMemoryContextStore();
    const registry = new InMemoryAgentRegistry();
    let committing: () => void = () => {};
    const inCommit = new Promise<void>((resolve) => {
      committing = resolve;
    });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = new AgentManager({
      bus,
      contextStore,
      registry,
      model: new MockLLM({ fallback: { text: 'once' } }),
      onTurnCommit: async () => {
        committing();
        await released;
      },
    });
    await first.create({ id: 'a1' });
    await first.send({ to: 'a1', content: 'q' });
    await inCommit;
    const closing = first.close({ timeoutMs: 5_000 });
    release();
    await closing;
    const second = new AgentManager({
      bus,
      contextStore,
      registry,
      model: new MockLLM({ fallback: { text: 'again' } }),
    });
    await second.restore();
    await second.waitForIdle();
    expect(await contextStore.load('a1', 'main')).toMatchObject({ turns: 1 });
    expect(await bus.stats('a1')).toMatchObject({ unread: 0, inFlight: 0 });
    await second.close();
    await bus.close();
  });
});
