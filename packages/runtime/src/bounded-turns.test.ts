import { InMemoryBus } from '@agentrix/bus';
import {
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type ChatStreamPart,
  defineTool,
  type MessageBus,
} from '@agentrix/core';
import { MockLLM } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AgentManager } from './agent-manager.js';
import { manager, until } from './fixtures/managers.js';

// Every turn and every close() is bounded in time, even when a tool or the model ignores its
// AbortSignal and never settles (issue 12, item 2).

/** A tool that never settles and ignores its signal: what one badly written tool looks like. */
const stuck = defineTool({
  name: 'stuck',
  description: 'Never returns',
  input: z.object({}),
  execute: () => new Promise<never>(() => {}),
});

const callStuck = { toolCalls: [{ name: 'stuck', arguments: {} }] };

/** A model whose calls never settle and ignore `request.signal` (generate) or stop yielding (stream). */
const hungModel: ChatModel = {
  name: 'hung',
  generate: (_request: ChatRequest) => new Promise<ChatResponse>(() => {}),
  stream: (_request: ChatRequest): AsyncIterable<ChatStreamPart> => ({
    [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<ChatStreamPart>>(() => {}) }),
  }),
};

describe('bounded turns', () => {
  it('a tool that never settles fails with TOOL_TIMEOUT after the default tool timeout; the model answers', async () => {
    const model = new MockLLM({ script: [callStuck, { text: 'the tool timed out' }] });
    const agentrix = manager({ model, tools: [stuck], toolTimeoutMs: 50 });
    await agentrix.create({ id: 'a1', tools: ['stuck'] });
    const reply = await agentrix.ask('a1', 'go', { timeoutMs: 5_000 });
    expect(reply.content).toBe('the tool timed out');
    const toolMessage = model.lastRequest?.messages.find((message) => message.role === 'tool');
    expect(toolMessage).toMatchObject({ isError: true, content: expect.stringMatching(/TOOL_TIMEOUT/) });
  });

  it('a turn stuck in a tool ends at turnTimeoutMs; the message is given back and the agent goes on', async () => {
    const bus = new InMemoryBus({ maxDeliveries: 1 });
    const model = new MockLLM({
      fallback: (request) => (request.messages.at(-1)?.content === 'next' ? { text: 'still alive' } : callStuck),
    });
    const agentrix = manager({ bus, model, tools: [stuck] });
    await agentrix.create({ id: 'a1', tools: ['stuck'], turnTimeoutMs: 60 });
    await expect(agentrix.ask('a1', 'go', { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'TURN_TIMEOUT' });
    expect((await agentrix.ask('a1', 'next', { timeoutMs: 5_000 })).content).toBe('still alive');
    expect(await bus.deadLetters('a1')).toMatchObject([{ error: { code: 'TURN_TIMEOUT' } }]);
    await bus.close();
  });

  for (const stream of [false, true]) {
    it(`a model that never answers (${stream ? 'stream' : 'generate'}) ends at turnTimeoutMs`, async () => {
      const agentrix = manager({ model: hungModel, bus: new InMemoryBus({ maxDeliveries: 1 }) });
      await agentrix.create({ id: 'a1', stream, turnTimeoutMs: 50 });
      await expect(agentrix.ask('a1', 'hi', { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'TURN_TIMEOUT' });
      await agentrix.waitForIdle();
      expect(agentrix.get('a1').state).toBe('idle');
    });
  }

  it('a model stream that stops yielding is closed when the turn times out', async () => {
    let closed = 0;
    const stalled: ChatModel = {
      ...hungModel,
      stream: () => ({
        [Symbol.asyncIterator]: () => ({
          next: () => new Promise<IteratorResult<ChatStreamPart>>(() => {}),
          return: async () => {
            closed++;
            return { done: true, value: undefined };
          },
        }),
      }),
    };
    const agentrix = manager({ model: stalled, bus: new InMemoryBus({ maxDeliveries: 1 }) });
    await agentrix.create({ id: 'a1', turnTimeoutMs: 50 });
    await expect(agentrix.ask('a1', 'hi', { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'TURN_TIMEOUT' });
    expect(closed).toBe(1);
  });

  it('a model answer that comes after the turn timed out runs no tool', async () => {
    let ran = 0;
    const counted = defineTool({ name: 'counted', description: 'Counts', input: z.object({}), execute: () => ++ran });
    const late: ChatModel = {
      name: 'late',
      generate: () =>
        new Promise<ChatResponse>((resolve) =>
          setTimeout(
            () =>
              resolve({
                message: {
                  role: 'assistant',
                  content: '',
                  toolCalls: [{ id: 'c1', name: 'counted', arguments: '{}' }],
                },
                finishReason: 'tool_calls',
                usage: { inputTokens: 1, outputTokens: 1 },
                model: 'late',
              }),
            80,
          ),
        ),
      stream: hungModel.stream,
    };
    const agentrix = manager({ model: late, tools: [counted], bus: new InMemoryBus({ maxDeliveries: 1 }) });
    await agentrix.create({ id: 'a1', tools: ['counted'], stream: false, turnTimeoutMs: 30 });
    await expect(agentrix.ask('a1', 'hi', { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'TURN_TIMEOUT' });
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(ran).toBe(0);
  });

  it('close() resolves while a tool ignores its signal, and gives the message back', async () => {
    const bus = new InMemoryBus();
    const model = new MockLLM({ fallback: callStuck });
    const agentrix = new AgentManager({ bus, model, tools: [stuck] });
    await agentrix.create({ id: 'a1', tools: ['stuck'] });
    await agentrix.send({ to: 'a1', content: 'go' });
    await until(() => agentrix.get('a1').state === 'running');
    const started = Date.now();
    await agentrix.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await bus.stats('a1')).toMatchObject({ unread: 1, inFlight: 0 });
    await bus.close();
  });

  it('close() stops waiting after its deadline when the bus does not answer, and still closes', async () => {
    const inner = new InMemoryBus();
    // Fault injection on a real bus: giving a message back never completes (a bus that hangs).
    const hanging = new Proxy(inner, {
      get(target, property) {
        if (property === 'nack') return () => new Promise<never>(() => {});
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as MessageBus;
    const model = new MockLLM({ fallback: callStuck });
    const warnings: string[] = [];
    const keep = () => {};
    const agentrix = new AgentManager({
      bus: hanging,
      model,
      tools: [stuck],
      logger: { debug: keep, info: keep, error: keep, warn: (_fields, message) => warnings.push(message) },
    });
    await agentrix.create({ id: 'a1', tools: ['stuck'] });
    await agentrix.send({ to: 'a1', content: 'go' });
    await until(() => agentrix.get('a1').state === 'running');
    const started = Date.now();
    await agentrix.close({ timeoutMs: 200 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(2_000);
    expect(warnings).toContain('close: agents did not stop in time; releasing them');
    await inner.close();
  });
});
