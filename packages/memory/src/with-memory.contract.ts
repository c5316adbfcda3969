// The withMemory and working-memory contract: run against PGlite (with-memory.test.ts) and
// Postgres (with-memory.int.test.ts).
import { randomUUID } from 'node:crypto';
import { createAgentrix } from '@agentrix/runtime';
import type { Database } from '@agentrix/store';
import { MockLLM, type MockRequest } from '@agentrix/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemory } from './memory.js';
import { withMemory } from './with-memory.js';

export interface OpenedDatabase {
  database: Database;
  dispose(): Promise<void>;
}

const summaryOf = (request: MockRequest) => {
  const said = request.messages.at(-1)?.content ?? '';
  const color = /colou?r is (\w+)/.exec(said)?.[1];
  return {
    text: JSON.stringify({
      topic: 'chat',
      stableFacts: color ? [{ key: 'user.favourite_color', text: `The user's favourite colour is ${color}` }] : [],
    }),
  };
};

export function withMemoryContract(name: string, open: () => Promise<OpenedDatabase>): void {
  let opened: OpenedDatabase;
  let database: Database;
  beforeAll(async () => {
    opened = await open();
    database = opened.database;
  }, 60_000);
  afterAll(async () => {
    await opened?.dispose();
  });

  describe(`withMemory on ${name}`, () => {
    it('injects retrieved memories and writes an episode after the turn, off the hot path', async () => {
      const userId = `user-${randomUUID()}`;
      const small = new MockLLM({ fallback: summaryOf });
      const memory = await createMemory({ database, model: small });
      const chat = new MockLLM({
        fallback: (request) => {
          const system = request.messages.filter((message) => message.role === 'system').map((m) => m.content);
          const known = /favourite colour is (\w+)/.exec(system.join('\n'))?.[1];
          return { text: known ? `Your favourite colour is ${known}.` : 'Noted.' };
        },
      });
      const model = withMemory(chat, memory);
      await using agentrix = createAgentrix({ model });
      const detach = model.attach(agentrix.events);
      await agentrix.create({ id: 'assistant', instructions: 'Be brief.', scope: { userId } });
      expect((await agentrix.ask('assistant', 'My favourite colour is teal.')).content).toBe('Noted.');
      await agentrix.waitForIdle(); // turn.completed comes right after the reply is sent
      await memory.flush();
      expect((await memory.getFact({ userId, agentId: 'assistant' }, 'user.favourite_color'))?.text).toContain('teal');
      expect(small.lastRequest?.tier).toBe('small');
      expect((await agentrix.ask('assistant', 'What is my favourite colour?')).content).toBe(
        'Your favourite colour is teal.',
      );
      const prompt = chat.lastRequest!.messages;
      expect(prompt[0]).toEqual({ role: 'system', content: 'Be brief.' });
      expect(prompt[1]?.content).toMatch(/^\[memory\]/);
      detach();
      await memory.close();
    });

    it('passes calls through untouched for a switched-off agent and writes nothing', async () => {
      const small = new MockLLM({ fallback: summaryOf });
      const memory = await createMemory({ database, model: small, disabledAgents: ['quiet'] });
      const chat = new MockLLM({ fallback: { text: 'ok' } });
      const model = withMemory(chat, memory);
      await using agentrix = createAgentrix({ model });
      model.attach(agentrix.events);
      await agentrix.create({ id: 'quiet', instructions: 'Hi.', scope: { userId: `user-${randomUUID()}` } });
      await agentrix.ask('quiet', 'My favourite colour is red.');
      await agentrix.waitForIdle();
      await memory.flush();
      expect(small.calls).toBe(0);
      expect(chat.lastRequest?.messages.some((message) => message.content.startsWith('[memory]'))).toBe(false);
    });

    it('keeps the prompt within budget on a long history', async () => {
      const memory = await createMemory({ database });
      const chat = new MockLLM({ fallback: { text: 'ok' } });
      const model = withMemory(chat, memory, { promptBudgetTokens: 300, taskState: () => ({ step: 3 }) });
      const messages = Array.from({ length: 200 }, (_, index) => ({
        role: index % 2 === 0 ? ('user' as const) : ('assistant' as const),
        content: `message ${index} ${'lorem ipsum '.repeat(20)}`,
      }));
      await model.generate({ messages: [{ role: 'system', content: 'sys' }, ...messages], scope: { agentId: 'long' } });
      const sent = chat.lastRequest!.messages;
      const tokens = sent.reduce((sum, message) => sum + 4 + Math.ceil(message.content.length / 4), 0);
      expect(tokens).toBeLessThanOrEqual(300);
      expect(sent.at(-1)?.content).toMatch(/^message 199/);
      expect(sent.some((message) => message.content.startsWith('Current task state'))).toBe(true);
    });
  });

  describe(`working memory on ${name}`, () => {
    it('follows the retrieved memories: the task state, then the last N messages, within budget', async () => {
      const memory = await createMemory({ database });
      const userId = `user-${randomUUID()}`;
      await memory.remember({ scope: { userId }, key: 'user.city', text: 'The user lives in Lisbon' });
      const chat = new MockLLM({ fallback: { text: 'ok' } });
      const model = withMemory(chat, memory, {
        maxMessages: 3,
        promptBudgetTokens: 2_000,
        taskState: (agentId) => ({ agentId, step: 'pack' }),
      });
      const history = Array.from({ length: 9 }, (_, index) => ({
        role: index % 2 === 0 ? ('user' as const) : ('assistant' as const),
        content: `turn ${index}`,
      }));
      const question = { role: 'user' as const, content: 'Which city do I live in?' };
      await model.generate({
        messages: [{ role: 'system', content: 'sys' }, ...history, question],
        scope: { agentId: 'working', userId },
      });
      const sent = chat.lastRequest!.messages;
      expect(sent[0]).toEqual({ role: 'system', content: 'sys' });
      expect(sent[1]?.content).toMatch(/^\[memory\][\s\S]*Lisbon/);
      expect(sent[2]).toEqual({ role: 'system', content: 'Current task state:\n{"agentId":"working","step":"pack"}' });
      expect(sent.slice(3).map((message) => message.content)).toEqual(['turn 7', 'turn 8', question.content]);
      const tokens = sent.reduce((sum, message) => sum + 4 + memory.countTokens(message.content), 0);
      expect(tokens).toBeLessThanOrEqual(2_000);
      await memory.close();
    });
  });

  describe(`withMemory details on ${name}`, () => {
    it('retrieves once per user message across the steps of a tool loop, and streams', async () => {
      const memory = await createMemory({ database });
      const retrieved: number[] = [];
      memory.events.on('memory.retrieved', (event) => retrieved.push(event.facts));
      const chat = new MockLLM({ fallback: { text: 'ok' } });
      const model = withMemory(chat, memory);
      const input = { role: 'user' as const, content: 'hello there' };
      const scope = { agentId: 'loop', userId: `user-${randomUUID()}` };
      await model.generate({ messages: [input], scope });
      await model.generate({
        messages: [
          input,
          { role: 'assistant', content: 'calling', toolCalls: [{ id: 'c', name: 't', arguments: '{}' }] },
        ],
        scope,
      });
      const parts = [];
      for await (const part of model.stream({ messages: [input], scope })) parts.push(part.type);
      expect(parts.at(-1)).toBe('finish');
      expect(retrieved).toHaveLength(1);
    });

    it('reports a failed background write as an event and closes idempotently', async () => {
      const memory = await createMemory({ database });
      const failures: string[] = [];
      memory.events.on('memory.write-failed', (event) => failures.push(event.error.message));
      memory.schedule(async () => {
        throw new Error('disk full');
      }, 'agent');
      await memory.flush();
      expect(failures).toEqual(['disk full']);
      const closing = memory.close();
      expect(memory.close()).toBe(closing);
      await closing;
      await expect(memory.remember({ scope: {}, key: 'k', text: 't' })).rejects.toMatchObject({ code: 'CLOSED' });
    });
  });
}
