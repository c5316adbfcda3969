import { randomUUID } from 'node:crypto';
import { AgentManager } from '@agentrix/runtime';
import { type AgentrixStore, createAgentrixStore } from '@agentrix/store';
import { MockLLM } from '@agentrix/testing';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';

// Issue 13, item 3: a thousand conversations on one agent, durable on the store, with a restart
// in the middle of them: every message answered, every thread's context in order, nothing lost.
const THREADS = 1000;
const url = process.env.DATABASE_URL;
const schema = `threads_${randomUUID().replaceAll('-', '')}`;
let store: AgentrixStore | undefined;

afterAll(async () => {
  if (!store) return;
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.database.kysely);
  await store.close();
});

const echo = () => new MockLLM({ fallback: (request) => ({ text: `re ${request.messages.at(-1)?.content}` }) });

describe('a thousand threads and a restart (Postgres)', () => {
  it('answers every message of every thread, in order per thread, across a restart', async () => {
    if (!url) throw new Error('DATABASE_URL is not set: run through `pnpm test`');
    store = await createAgentrixStore({ url, schema });
    const parts = () => ({ bus: store!.bus, contextStore: store!.contexts, registry: store!.registry });
    const first = new AgentManager({ ...parts(), model: echo(), consumer: 'first' });
    await first.create({ id: 'bot', maxConcurrentThreads: 8, maxHistory: 10 });
    for (let round = 1; round <= 2; round++) {
      for (let thread = 0; thread < THREADS; thread++) {
        await first.send({ to: 'bot', content: `m${round}`, threadId: `user:${thread}`, replyTo: 'outside' });
      }
    }
    const answered = new Set<string>();
    const drain = async (until: number) => {
      while (answered.size < until) {
        const deliveries = await store!.bus.read('outside', { max: 200, blockMs: 10_000 });
        if (deliveries.length === 0) throw new Error(`stalled at ${answered.size} replies`);
        for (const delivery of deliveries) answered.add(delivery.envelope.inReplyTo!);
        await store!.bus.ack(
          'outside',
          deliveries.map((delivery) => delivery.deliveryId),
        );
      }
    };
    await drain(THREADS / 2);
    // Restart in the middle: turns running now are aborted and their messages given back.
    await first.close();
    const second = new AgentManager({ ...parts(), model: echo(), consumer: 'second' });
    expect((await second.restore()).map((agent) => agent.id)).toEqual(['bot']);
    await drain(2 * THREADS);
    await second.waitForIdle({ timeoutMs: 60_000 });
    expect(answered.size).toBe(2 * THREADS);
    const threads = await second.threads('bot', { limit: 5_000 });
    expect(threads).toHaveLength(THREADS);
    expect(threads.filter((thread) => thread.turns !== 2)).toEqual([]);
    for (const thread of [0, 1, 499, 500, 998, 999]) {
      const context = await second.contexts.load('bot', `user:${thread}`);
      expect(context.messages.map((message) => message.content)).toEqual(['m1', 're m1', 'm2', 're m2']);
    }
    expect(await store.bus.stats('bot')).toMatchObject({ unread: 0, inFlight: 0, deadLetters: 0 });
    await second.close();
  }, 180_000);
});
