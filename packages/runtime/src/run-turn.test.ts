import {
  AgentrixError,
  AgentrixEvents,
  type ChatModel,
  type ChatResponse,
  defineTool,
  type ToolMessage,
} from '@agentrix/core';
import { MockLLM } from '@agentrix/testing';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { runTurn } from './run-turn.js';
import { createToolSet } from './tool-set.js';

const fastRetry = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

function weatherTool(execute = vi.fn(({ city }: { city: string }) => ({ city, temperature: 21 }))) {
  return {
    execute,
    tools: createToolSet([
      defineTool({
        name: 'weather',
        description: 'Weather by city',
        input: z.object({ city: z.string().min(1) }),
        execute,
      }),
    ]),
  };
}

describe('runTurn', () => {
  it('runs the tool the model asks for, then returns its final answer', async () => {
    const model = new MockLLM({
      script: [
        { toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }] },
        { text: 'It is 21 degrees in Oslo.' },
      ],
    });
    const { tools, execute } = weatherTool();
    const result = await runTurn({
      model,
      instructions: 'be brief',
      messages: [{ role: 'user', content: 'weather?' }],
      tools,
    });
    expect(result).toMatchObject({ reply: 'It is 21 degrees in Oslo.', steps: 2, stopReason: 'final' });
    expect(execute).toHaveBeenCalledOnce();
    expect(result.messages.map((message) => message.role)).toEqual(['assistant', 'tool', 'assistant']);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    const second = model.requests[1]!;
    expect(second.messages[0]).toEqual({ role: 'system', content: 'be brief' });
    expect(second.messages.at(-1)).toMatchObject({
      role: 'tool',
      name: 'weather',
      content: '{"city":"Oslo","temperature":21}',
    });
    expect(second.tools?.[0]).toMatchObject({ name: 'weather', parameters: { type: 'object' } });
  });

  it('sends invalid JSON and schema failures back to the model; the tool never sees them', async () => {
    const model = new MockLLM({
      script: [
        { toolCalls: [{ name: 'weather', arguments: '{"city": ' }] },
        { toolCalls: [{ name: 'weather', arguments: { city: 42 } }] },
        { toolCalls: [{ name: 'nope', arguments: {} }] },
        { text: 'gave up' },
      ],
    });
    const { tools, execute } = weatherTool();
    const result = await runTurn({ model, messages: [{ role: 'user', content: 'x' }], tools });
    expect(execute).not.toHaveBeenCalled();
    const toolMessages = result.messages.filter((message): message is ToolMessage => message.role === 'tool');
    expect(toolMessages.map((message) => message.isError)).toEqual([true, true, true]);
    expect(JSON.parse(toolMessages[0]!.content).error).toMatchObject({
      code: 'TOOL_INPUT_INVALID',
      message: expect.stringMatching(/not valid JSON/),
    });
    expect(JSON.parse(toolMessages[1]!.content).error).toMatchObject({
      code: 'TOOL_INPUT_INVALID',
      message: expect.stringMatching(/city/),
    });
    expect(JSON.parse(toolMessages[2]!.content).error).toMatchObject({
      code: 'TOOL_NOT_FOUND',
      message: expect.stringMatching(/Available tools: weather/),
    });
    expect(result.reply).toBe('gave up');
  });

  it('reports a throwing or slow tool to the model and keeps going', async () => {
    const events = new AgentrixEvents();
    const completed: unknown[] = [];
    events.on('tool.completed', (event) => completed.push(event));
    const tools = createToolSet([
      defineTool({
        name: 'boom',
        description: '',
        input: z.object({}),
        execute: () => {
          throw new Error('disk full');
        },
      }),
      defineTool({
        name: 'slow',
        description: '',
        input: z.object({}),
        timeoutMs: 20,
        execute: (_input, { signal }) =>
          new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      }),
    ]);
    const model = new MockLLM({
      script: [
        {
          toolCalls: [
            { name: 'boom', arguments: {} },
            { name: 'slow', arguments: {} },
          ],
        },
        { text: 'ok' },
      ],
    });
    const result = await runTurn({ model, messages: [{ role: 'user', content: 'x' }], tools, events });
    expect(completed).toMatchObject([
      { name: 'boom', isError: true, error: { code: 'TOOL_FAILED' } },
      { name: 'slow', isError: true, error: { code: 'TOOL_TIMEOUT' } },
    ]);
    const [boom, slow] = result.messages.filter((message): message is ToolMessage => message.role === 'tool');
    expect(JSON.parse(boom!.content).error).toMatchObject({
      code: 'TOOL_FAILED',
      message: 'Tool "boom" failed: disk full',
    });
    expect(JSON.parse(slow!.content).error).toMatchObject({ code: 'TOOL_TIMEOUT' });
    expect(result.reply).toBe('ok');
  });

  it('stops after maxSteps model calls', async () => {
    const model = new MockLLM({
      fallback: { toolCalls: [{ name: 'weather', arguments: { city: 'Rome' } }], text: 'still working' },
    });
    const result = await runTurn({
      model,
      messages: [{ role: 'user', content: 'x' }],
      tools: weatherTool().tools,
      maxSteps: 3,
    });
    expect(result).toMatchObject({ steps: 3, stopReason: 'max-steps', reply: 'still working' });
    expect(model.calls).toBe(3);
  });

  it('retries a failing model with backoff and reports each retry', async () => {
    const events = new AgentrixEvents();
    const retries: number[] = [];
    events.on('model.retry', (event) => retries.push(event.attempt));
    const model = new MockLLM({
      script: [{ error: new Error('ECONNRESET') }, { error: new Error('502') }, { text: 'back' }],
    });
    const result = await runTurn({ model, messages: [{ role: 'user', content: 'x' }], modelRetry: fastRetry, events });
    expect(result.reply).toBe('back');
    expect(retries).toEqual([1, 2]);
  });

  it('throws after the last attempt, and at once for errors that are not retryable', async () => {
    const failing = new MockLLM({ fallback: { error: new Error('down') } });
    await expect(
      runTurn({ model: failing, messages: [{ role: 'user', content: 'x' }], modelRetry: fastRetry }),
    ).rejects.toMatchObject({
      code: 'MODEL_ERROR',
    });
    expect(failing.calls).toBe(3);
    const auth = new MockLLM({ fallback: { error: new AgentrixError('AUTH_FAILED', 'bad key') } });
    await expect(
      runTurn({ model: auth, messages: [{ role: 'user', content: 'x' }], modelRetry: fastRetry }),
    ).rejects.toMatchObject({
      code: 'AUTH_FAILED',
    });
    expect(auth.calls).toBe(1);
  });

  it('retries a stream that ends without its finish part and an answer without a message, then fails typed', async () => {
    const calls = { stream: 0, generate: 0 };
    const truncated: ChatModel = {
      name: 'truncated',
      // A text delta, then the end: no finish part (a dropped connection a provider did not report).
      stream: async function* () {
        calls.stream++;
        yield { type: 'text-delta', text: 'half' };
      },
      generate: async () => {
        calls.generate++;
        return calls.generate < 3
          ? ({
              finishReason: 'stop',
              usage: { inputTokens: 1, outputTokens: 1 },
              model: 'x',
            } as unknown as ChatResponse)
          : {
              message: { role: 'assistant', content: 'whole' },
              finishReason: 'stop',
              usage: { inputTokens: 1, outputTokens: 1 },
              model: 'x',
            };
      },
    };
    const messages = [{ role: 'user' as const, content: 'x' }];
    await expect(runTurn({ model: truncated, messages, modelRetry: fastRetry })).rejects.toMatchObject({
      code: 'MODEL_RESPONSE_INVALID',
      message: 'The stream from model "truncated" ended without a finish part',
    });
    expect(calls.stream).toBe(3);
    const result = await runTurn({ model: truncated, messages, modelRetry: fastRetry, stream: false });
    expect([result.reply, calls.generate]).toEqual(['whole', 3]);
  });

  it('streams tokens as events, and generate() is used when streaming is off', async () => {
    const events = new AgentrixEvents();
    const tokens: string[] = [];
    events.on('model.token', (event) => tokens.push(event.text));
    const model = new MockLLM({ script: [{ text: 'one two three' }, { text: 'plain' }] });
    await runTurn({ model, messages: [{ role: 'user', content: 'x' }], events });
    expect(tokens.join('')).toBe('one two three');
    expect(tokens.length).toBeGreaterThan(1);
    tokens.length = 0;
    const result = await runTurn({ model, messages: [{ role: 'user', content: 'x' }], events, stream: false });
    expect(result.reply).toBe('plain');
    expect(tokens).toEqual([]);
  });

  it('stops when its signal aborts', async () => {
    const controller = new AbortController();
    const model = new MockLLM({ script: [{ text: 'late', delayMs: 1_000 }] });
    const turn = runTurn({ model, messages: [{ role: 'user', content: 'x' }], signal: controller.signal });
    controller.abort();
    await expect(turn).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
