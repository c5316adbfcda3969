import { InMemoryBus } from '@agentrix/bus';
import { defineTool, systemClock } from '@agentrix/core';
import { MockLLM } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { manager } from './fixtures/managers.js';

/** Answers with what it saw of the conversation: the user messages of this thread, joined. */
const echoHistory = () =>
  new MockLLM({
    fallback: (request) => ({
      text: request.messages
        .filter((message) => message.role === 'user')
        .map((message) => message.content)
        .join(' | '),
    }),
  });

describe('conversations (threads)', () => {
  it('keeps one context per thread; the default thread is main', async () => {
    const agentrix = manager({ model: echoHistory() });
    await agentrix.create({ id: 'bot' });
    expect((await agentrix.ask('bot', 'hi from ada', { threadId: 'chat:ada' })).content).toBe('hi from ada');
    expect((await agentrix.ask('bot', 'hi from bob', { threadId: 'chat:bob' })).content).toBe('hi from bob');
    expect((await agentrix.ask('bot', 'ada again', { threadId: 'chat:ada' })).content).toBe('hi from ada | ada again');
    expect((await agentrix.ask('bot', 'no thread')).content).toBe('no thread');
    await agentrix.waitForIdle();
    const threads = await agentrix.threads('bot');
    expect(threads.map((thread) => thread.threadId).sort()).toEqual(['chat:ada', 'chat:bob', 'main']);
    expect(threads.find((thread) => thread.threadId === 'chat:ada')?.turns).toBe(2);
    expect((await agentrix.contexts.load('bot', 'chat:bob')).messages.map((message) => message.content)).toEqual([
      'hi from bob',
      'hi from bob',
    ]);
  });

  it("stamps the reply and the thread's updatedAt with one clock reading", async () => {
    // Every reading differs: two reads could not give one time.
    let now = 1_000;
    const agentrix = manager({ model: echoHistory(), clock: { ...systemClock, now: () => now++ } });
    await agentrix.create({ id: 'bot' });
    const reply = await agentrix.ask('bot', 'hi', { threadId: 'chat:1' });
    await agentrix.waitForIdle();
    const [thread] = await agentrix.threads('bot');
    expect(thread?.updatedAt).toBe(reply.createdAt);
    expect((await agentrix.contexts.load('bot', 'chat:1')).updatedAt).toBe(reply.createdAt);
  });

  it('names the thread on every event of a turn (turn, model tokens, tools)', async () => {
    const echo = defineTool({
      name: 'echo',
      description: 'echoes',
      input: z.object({ text: z.string() }),
      execute: ({ text }) => text,
    });
    const agentrix = manager({
      model: new MockLLM({
        script: [{ toolCalls: [{ name: 'echo', arguments: { text: 'x' } }] }, { text: 'streamed answer' }],
      }),
      tools: [echo],
    });
    await agentrix.create({ id: 'bot', tools: ['echo'], stream: true });
    const seen = new Map<string, string[]>();
    for (const name of ['turn.started', 'turn.completed', 'model.token', 'tool.called', 'tool.completed'] as const) {
      agentrix.on(name, (event) => seen.set(name, [...(seen.get(name) ?? []), event.threadId]));
    }
    await agentrix.ask('bot', 'go', { threadId: 'chat:42' });
    await agentrix.waitForIdle(); // the turn completes after its reply
    expect(Object.fromEntries([...seen].map(([name, threads]) => [name, [...new Set(threads)]]))).toEqual({
      'turn.started': ['chat:42'],
      'turn.completed': ['chat:42'],
      'model.token': ['chat:42'],
      'tool.called': ['chat:42'],
      'tool.completed': ['chat:42'],
    });
    await agentrix.close();
  });

  it('forgets a thread: the next message starts afresh; unknown and invalid threads are typed errors', async () => {
    const forgotten: string[] = [];
    const agentrix = manager({
      model: echoHistory(),
      onForget: (agentId, threadId) => void forgotten.push(`${agentId}/${threadId}`),
    });
    await agentrix.create({ id: 'bot' });
    await agentrix.ask('bot', 'one', { threadId: 't1' });
    await agentrix.waitForIdle();
    await agentrix.forget('bot', 't1');
    expect(forgotten).toEqual(['bot/t1']);
    expect((await agentrix.ask('bot', 'two', { threadId: 't1' })).content).toBe('two');
    await expect(agentrix.forget('bot', 'never-used')).rejects.toMatchObject({ code: 'THREAD_NOT_FOUND' });
    for (const bad of ['', 'has space', 'x'.repeat(201), 42]) {
      await expect(agentrix.ask('bot', 'hi', { threadId: bad as string })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/thread id/),
      });
      await expect(agentrix.forget('bot', bad as string)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(agentrix.send({ to: 'bot', content: 'x', threadId: 'bad thread' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(agentrix.threads('ghost')).rejects.toMatchObject({ code: 'AGENT_NOT_FOUND' });
  });

  it('runs turns of one thread one after another, of different threads at the same time, up to the limit', async () => {
    let running = 0;
    let most = 0;
    const runningByThread = new Map<string, number>();
    let overlapInThread = false;
    const model = new MockLLM({
      fallback: async (request) => {
        const thread = request.scope?.threadId ?? 'main';
        running++;
        most = Math.max(most, running);
        runningByThread.set(thread, (runningByThread.get(thread) ?? 0) + 1);
        if ((runningByThread.get(thread) ?? 0) > 1) overlapInThread = true;
        await new Promise((resolve) => setTimeout(resolve, 15));
        running--;
        runningByThread.set(thread, (runningByThread.get(thread) ?? 0) - 1);
        return { text: `done in ${thread}` };
      },
    });
    const agentrix = manager({ model });
    await agentrix.create({ id: 'bot', maxConcurrentThreads: 3 });
    const asks = [];
    for (let index = 0; index < 12; index++) {
      asks.push(agentrix.ask('bot', `m${index}`, { threadId: `t${index % 4}`, timeoutMs: 10_000 }));
    }
    const replies = await Promise.all(asks);
    expect(replies.map((reply) => reply.content)).toEqual(asks.map((_, index) => `done in t${index % 4}`));
    expect(overlapInThread).toBe(false);
    expect(most).toBe(3);
    await agentrix.waitForIdle();
    for (const thread of ['t0', 't1', 't2', 't3']) {
      expect((await agentrix.contexts.load('bot', thread)).turns).toBe(3);
    }
  });

  it('serves a thousand threads on one agent', async () => {
    const agentrix = manager({ model: echoHistory() });
    await agentrix.create({ id: 'bot', maxConcurrentThreads: 16 });
    const asks = [];
    for (let index = 0; index < 1000; index++) {
      asks.push(agentrix.ask('bot', `hello ${index}`, { threadId: `user:${index}`, timeoutMs: 30_000 }));
    }
    const replies = await Promise.all(asks);
    expect(replies.every((reply, index) => reply.content === `hello ${index}`)).toBe(true);
    await agentrix.waitForIdle();
    expect(await agentrix.threads('bot', { limit: 5_000 })).toHaveLength(1000);
    expect(agentrix.get('bot')).toMatchObject({ state: 'idle', turns: 1000 });
  });

  it('hands the thread on: replies and messages an agent sends stay in the conversation', async () => {
    const bus = new InMemoryBus();
    const agentrix = manager({
      bus,
      model: new MockLLM({
        fallback: (request) =>
          request.messages.at(-1)?.role === 'tool'
            ? { text: 'sent' }
            : {
                toolCalls: [{ name: 'send_message', arguments: { to: 'other', content: 'ping', expectReply: false } }],
              },
      }),
    });
    await agentrix.create({ id: 'bot', tools: ['send_message'] });
    await agentrix.create({ id: 'other' }, { start: false });
    const reply = await agentrix.ask('bot', 'go', { threadId: 'chat:7' });
    expect(reply).toMatchObject({ threadId: 'chat:7', content: 'sent' });
    const [message] = await bus.read('other', { blockMs: 1_000 });
    expect(message?.envelope).toMatchObject({ from: 'bot', content: 'ping', threadId: 'chat:7' });
  });
});
