// The withMemory and working-memory contract: run against PGlite (with-memory.test.ts) and
// Postgres (with-memory.int.test.ts).
import { randomUUID } from 'node:crypto';
import { DEFAULT_THREAD } from '@agentrix/core';
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
    it('injects retrieved memories and records the episode in the turn commit, before the context is saved', async () => {
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
      const atCommit: { episode: string | undefined; savedTurns: number }[] = [];
      await using agentrix = await createAgentrix({
        model,
        // A hook after memory's sees what memory wrote, and the context not yet saved.
        onTurnCommit: [
          model.commitTurn,
          async (commit) => {
            const episodes = await memory.recentEpisodes({ userId, agentId: commit.agentId }, 10);
            atCommit.push({
              episode: episodes.find((episode) => episode.messageId === commit.messageId)?.scope.threadId,
              savedTurns: (await agentrix.contexts.load(commit.agentId)).turns,
            });
          },
        ],
      });
      await agentrix.create({ id: 'assistant', instructions: 'Be brief.', scope: { userId } });
      expect((await agentrix.ask('assistant', 'My favourite colour is teal.')).content).toBe('Noted.');
      await agentrix.waitForIdle();
      expect(atCommit).toEqual([{ episode: DEFAULT_THREAD, savedTurns: 0 }]);
      expect((await memory.getFact({ userId, agentId: 'assistant' }, 'user.favourite_color'))?.text).toContain('teal');
      expect(small.lastRequest?.tier).toBe('small');
      expect((await agentrix.ask('assistant', 'What is my favourite colour?')).content).toBe(
        'Your favourite colour is teal.',
      );
      const prompt = chat.lastRequest!.messages;
      expect(prompt[0]).toEqual({ role: 'system', content: 'Be brief.' });
      expect(prompt[1]?.content).toMatch(/^\[memory\]/);
    });

    it('records a redelivered turn once: a hook failing after memory’s redelivers the message', async () => {
      const userId = `user-${randomUUID()}`;
      const small = new MockLLM({ fallback: summaryOf });
      const memory = await createMemory({ database, model: small });
      const model = withMemory(new MockLLM({ fallback: { text: 'Noted.' } }), memory);
      let failures = 1;
      await using agentrix = await createAgentrix({
        model,
        onTurnCommit: [
          model.commitTurn,
          () => {
            if (failures-- > 0) throw new Error('crashed after memory wrote');
          },
        ],
      });
      await agentrix.create({ id: 'assistant', scope: { userId } });
      await agentrix.send({ to: 'assistant', content: 'My favourite colour is teal.' });
      await agentrix.waitForIdle();
      expect(agentrix.get('assistant')).toMatchObject({
        turns: 1,
        lastError: { message: expect.stringMatching(/crashed/) },
      });
      expect(await memory.recentEpisodes({ userId, agentId: 'assistant' }, 10)).toHaveLength(1);
      expect(small.calls).toBe(1); // the second attempt found the episode and asked no model
      expect((await agentrix.contexts.load('assistant')).turns).toBe(1);
    });

    it('passes calls through untouched for a switched-off agent and writes nothing', async () => {
      const small = new MockLLM({ fallback: summaryOf });
      const memory = await createMemory({ database, model: small, disabledAgents: ['quiet'] });
      const chat = new MockLLM({ fallback: { text: 'ok' } });
      const model = withMemory(chat, memory);
      await using agentrix = await createAgentrix({ model, onTurnCommit: model.commitTurn });
      const userId = `user-${randomUUID()}`;
      await agentrix.create({ id: 'quiet', instructions: 'Hi.', scope: { userId } });
      await agentrix.ask('quiet', 'My favourite colour is red.');
      await agentrix.waitForIdle();
      expect(small.calls).toBe(0);
      expect(await memory.recentEpisodes({ userId, agentId: 'quiet' })).toEqual([]);
      expect(chat.lastRequest?.messages.some((message) => message.content.startsWith('[memory]'))).toBe(false);
    });

    it('keeps two interleaved threads of one agent apart, and forgets one', async () => {
      const small = new MockLLM({ fallback: summaryOf });
      const memory = await createMemory({ database, model: small });
      const chat = new MockLLM({
        fallback: (request) => {
          const remembered = request.messages.find((message) => message.content.startsWith('[memory]'))?.content;
          return { text: /favourite colour is (\w+)/.exec(remembered ?? '')?.[1] ?? 'Noted.' };
        },
      });
      const model = withMemory(chat, memory);
      // A bot serving many chats with no user ids: what a chat teaches stays in it.
      const agentId = `bot-${randomUUID()}`;
      const turn = (threadId: string, content: string) => {
        const input = { role: 'user' as const, content };
        const scope = { agentId, threadId };
        return {
          answer: () => model.generate({ messages: [{ role: 'system', content: 'Be brief.' }, input], scope }),
          commit: (reply: string) =>
            model.commitTurn({
              agentId,
              threadId,
              turnId: randomUUID(),
              messageId: `${threadId}-${randomUUID()}`,
              scope,
              input,
              messages: [{ role: 'assistant', content: reply }],
              reply,
              signal: new AbortController().signal,
            }),
        };
      };
      const a = turn('chat-a', 'My favourite colour is teal.');
      const b = turn('chat-b', 'My favourite colour is red.');
      // Both turns in flight at once, committed in the other order.
      const [replyA, replyB] = await Promise.all([a.answer(), b.answer()]);
      await b.commit(replyB.message.content);
      await a.commit(replyA.message.content);
      const episodes = await memory.recentEpisodes({ agentId, threadId: 'chat-a' }, 10);
      expect(episodes.map((episode) => [episode.scope.threadId, episode.text])).toEqual([
        ['chat-a', expect.stringContaining('chat')],
      ]);
      expect((await memory.getFact({ agentId, threadId: 'chat-a' }, 'user.favourite_color'))?.text).toContain('teal');
      expect((await memory.getFact({ agentId, threadId: 'chat-b' }, 'user.favourite_color'))?.text).toContain('red');
      const askA = turn('chat-a', 'Which colour do I like?');
      const askB = turn('chat-b', 'Which colour do I like?');
      const [answerB, answerA] = await Promise.all([askB.answer(), askA.answer()]);
      expect([answerA.message.content, answerB.message.content]).toEqual(['teal', 'red']);
      expect(await memory.forgetThread({ agentId, threadId: 'chat-a' })).toEqual({ facts: 1, episodes: 1 });
      expect((await turn('chat-a', 'Which colour do I like?').answer()).message.content).toBe('Noted.');
      expect((await turn('chat-b', 'Which colour do I like?').answer()).message.content).toBe('red');
    });

    it('follows a known user into another thread of the agent', async () => {
      const memory = await createMemory({ database, model: new MockLLM({ fallback: summaryOf }) });
      const chat = new MockLLM({ fallback: { text: 'ok' } });
      const model = withMemory(chat, memory);
      const scope = { agentId: 'assistant', userId: `user-${randomUUID()}` };
      const input = { role: 'user' as const, content: 'My favourite colour is teal.' };
      await model.generate({ messages: [input], scope: { ...scope, threadId: 'work' } });
      await model.commitTurn({
        ...scope,
        threadId: 'work',
        turnId: 't1',
        messageId: `m-${randomUUID()}`,
        scope: { ...scope, threadId: 'work' },
        input,
        messages: [{ role: 'assistant', content: 'Noted.' }],
        reply: 'Noted.',
        signal: new AbortController().signal,
      });
      await model.generate({
        messages: [{ role: 'user', content: 'What colour do I like?' }],
        scope: { ...scope, threadId: 'home' },
      });
      const remembered = chat.lastRequest!.messages.find((message) => message.content.startsWith('[memory]'));
      expect(remembered?.content).toMatch(/favourite colour is teal[\s\S]*Earlier conversations:/);
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

    it('closes idempotently, then refuses writes', async () => {
      const memory = await createMemory({ database });
      const closing = memory.close();
      expect(memory.close()).toBe(closing);
      await closing;
      await expect(memory.remember({ scope: {}, key: 'k', text: 't' })).rejects.toMatchObject({ code: 'CLOSED' });
    });
  });
}
