import { AgentrixError, type ChatRequest, type ChatStreamPart } from '@agentrix/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MockLLM, type MockRequest } from './mock-llm.js';

const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  messages: [{ role: 'user', content }],
  ...extra,
});

async function collect(stream: AsyncIterable<ChatStreamPart>): Promise<ChatStreamPart[]> {
  const parts: ChatStreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('MockLLM script', () => {
  it('answers with the scripted steps in order, then the fallback', async () => {
    const model = new MockLLM({ script: [{ text: 'one' }], fallback: { text: 'again' } });
    model.push({ text: 'two' }, { text: 'three' });
    expect(model.remaining).toBe(3);
    const answers: string[] = [];
    for (let i = 0; i < 5; i++) answers.push((await model.generate(ask(`q${i}`))).message.content);
    expect(answers).toEqual(['one', 'two', 'three', 'again', 'again']);
    expect(model.calls).toBe(5);
    expect(model.remaining).toBe(0);
  });

  it('throws MOCK_SCRIPT_EXHAUSTED saying how many calls were scripted and the last user message', async () => {
    const model = new MockLLM({ script: [{ text: 'only' }] });
    await model.generate(ask('first'));
    const error = await rejection(
      model.generate({
        messages: [
          { role: 'user', content: 'earlier' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'what now?' },
        ],
      }),
    );
    expect(AgentrixError.isInstance(error)).toBe(true);
    const agentrixError = error as AgentrixError;
    expect(agentrixError.code).toBe('MOCK_SCRIPT_EXHAUSTED');
    // The code is testing's own (merged into core's codes): a system error, not retried.
    expect([agentrixError.kind, agentrixError.isRetryable]).toEqual(['system', false]);
    expect(agentrixError.message).toContain('call #2');
    expect(agentrixError.message).toContain('1 call was scripted');
    expect(agentrixError.message).toContain('"what now?"');
    expect(agentrixError.message).toMatch(/push\(.*\).*fallback/);
    expect(agentrixError.details).toMatchObject({ calls: 2, scripted: 1, lastUserMessage: 'what now?' });
  });

  it('throws MOCK_SCRIPT_EXHAUSTED from stream on first iteration', async () => {
    const model = new MockLLM();
    const iterator = model.stream(ask('hi'))[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toMatchObject({ code: 'MOCK_SCRIPT_EXHAUSTED' });
    expect(((await rejection(new MockLLM().generate(ask('x')))) as Error).message).toContain('0 calls were scripted');
  });

  it('passes the request and the call index to a responder function', async () => {
    const seen: Array<{ request: MockRequest; index: number }> = [];
    const model = new MockLLM({
      fallback: (request, index) => {
        seen.push({ request, index });
        const last = request.messages[request.messages.length - 1]!;
        return { text: `echo ${last.content}` };
      },
    });
    model.push(async (request) => ({ text: `first: ${request.messages[0]!.content}` }));
    expect((await model.generate(ask('a'))).message.content).toBe('first: a');
    expect((await model.generate(ask('b'))).message.content).toBe('echo b');
    expect((await model.generate(ask('c'))).message.content).toBe('echo c');
    expect(seen.map((entry) => entry.index)).toEqual([1, 2]);
    expect(seen[0]!.request).toBe(model.requests[1]);
  });

  it('lets a responder return an error step', async () => {
    const model = new MockLLM({
      fallback: (request) =>
        request.messages.some((message) => message.content.includes('fail'))
          ? { error: new AgentrixError('RATE_LIMITED', 'slow down') }
          : { text: 'fine' },
    });
    expect((await model.generate(ask('ok'))).message.content).toBe('fine');
    await expect(model.generate(ask('please fail'))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('reset clears the queue, the records and the tool-call ids', async () => {
    const model = new MockLLM({ script: [MockLLM.toolCall('a', {}), { text: 'x' }] });
    await model.generate(ask('1'));
    model.reset();
    expect(model.calls).toBe(0);
    expect(model.requests).toEqual([]);
    expect(model.remaining).toBe(0);
    await expect(model.generate(ask('2'))).rejects.toMatchObject({ code: 'MOCK_SCRIPT_EXHAUSTED' });
    model.push(MockLLM.toolCall('b', {}));
    expect((await model.generate(ask('3'))).message.toolCalls?.[0]?.id).toBe('call_1');
  });
});

describe('MockLLM responses', () => {
  it('builds a text response with stop, the name as model, and estimated usage', async () => {
    const model = new MockLLM({ name: 'scripted', script: [{ text: 'Hello there!' }] });
    const request: ChatRequest = {
      messages: [
        { role: 'system', content: 'You are terse.' }, // 14 chars
        { role: 'user', content: 'Say hi' }, // 6 chars
      ],
    };
    const response = await model.generate(request);
    expect(response).toEqual({
      message: { role: 'assistant', content: 'Hello there!' },
      finishReason: 'stop',
      usage: { inputTokens: 5, outputTokens: 3 },
      model: 'scripted',
    });
    expect(response.usage.estimated).toBeUndefined();
    expect(model.name).toBe('scripted');
    expect(new MockLLM().name).toBe('mock');
  });

  it('estimates at least one token each way and fills only the missing usage fields', async () => {
    const model = new MockLLM({
      script: [{ text: '' }, { text: 'abcdefghi', usage: { inputTokens: 100, cachedInputTokens: 40 } }],
    });
    expect((await model.generate({ messages: [] })).usage).toEqual({ inputTokens: 1, outputTokens: 1 });
    expect((await model.generate(ask('x'))).usage).toEqual({
      inputTokens: 100,
      outputTokens: 3,
      cachedInputTokens: 40,
    });
  });

  it('encodes tool-call arguments: objects as JSON, strings raw; ids count per model', async () => {
    const model = new MockLLM({
      script: [
        {
          text: 'Let me look.',
          toolCalls: [
            { name: 'search', arguments: { q: 'weather', limit: 3 } },
            { name: 'broken', arguments: '{"q": oops' },
            { name: 'named', arguments: [1, 2], id: 'custom-id' },
          ],
        },
        { toolCalls: [{ name: 'again', arguments: null }] },
      ],
    });
    const first = await model.generate(ask('weather?'));
    expect(first.finishReason).toBe('tool_calls');
    expect(first.message).toEqual({
      role: 'assistant',
      content: 'Let me look.',
      toolCalls: [
        { id: 'call_1', name: 'search', arguments: '{"q":"weather","limit":3}' },
        { id: 'call_2', name: 'broken', arguments: '{"q": oops' },
        { id: 'custom-id', name: 'named', arguments: '[1,2]' },
      ],
    });
    // output estimate covers text and arguments: 12 + 25 + 10 + 5 = 52 chars -> 13 tokens
    expect(first.usage.outputTokens).toBe(13);
    const second = await model.generate(ask('again'));
    expect(second.message.toolCalls).toEqual([{ id: 'call_3', name: 'again', arguments: 'null' }]);
    expect(second.message.content).toBe('');
  });

  it("uses the step's finishReason and model when given", async () => {
    const model = new MockLLM({
      script: [
        { text: 'cut', finishReason: 'length', model: 'gpt-test' },
        MockLLM.toolCall('t', { a: 1 }, { finishReason: 'stop', id: 'x' }),
      ],
    });
    const first = await model.generate(ask('a'));
    expect([first.finishReason, first.model]).toEqual(['length', 'gpt-test']);
    const second = await model.generate(ask('b'));
    expect(second.finishReason).toBe('stop');
    expect(second.message.toolCalls).toEqual([{ id: 'x', name: 't', arguments: '{"a":1}' }]);
  });

  it('rejects with the error of an error step, as is', async () => {
    const boom = new AgentrixError('MODEL_ERROR', 'upstream 500');
    const model = new MockLLM({ script: [MockLLM.error(boom), { error: 'plain string' }, MockLLM.text('after')] });
    await expect(model.generate(ask('a'))).rejects.toBe(boom);
    await expect(model.generate(ask('b'))).rejects.toBe('plain string');
    expect((await model.generate(ask('c'))).message.content).toBe('after');
    expect(model.calls).toBe(3);
  });
});

describe('MockLLM stream', () => {
  it('streams word-sized text deltas that join to the text, then one finish part', async () => {
    const text = '  Hello,   streaming world!\nBye. ';
    const model = new MockLLM({ script: [{ text }] });
    const parts = await collect(model.stream(ask('hi')));
    const deltas = parts.filter((part) => part.type === 'text-delta');
    expect(deltas.map((part) => part.text)).toEqual(['  Hello,   ', 'streaming ', 'world!\n', 'Bye. ']);
    expect(deltas.map((part) => part.text).join('')).toBe(text);
    expect(deltas[1]).toEqual({ type: 'text-delta', text: 'streaming ' });
    expect(parts.filter((part) => part.type === 'finish')).toHaveLength(1);
    const last = parts[parts.length - 1]!;
    expect(last.type).toBe('finish');
    if (last.type !== 'finish') throw new Error('unreachable');
    expect(last.response.message.content).toBe(text);
    expect(last.response.finishReason).toBe('stop');
  });

  it('uses the given chunks and rejects chunks that do not join to the text', async () => {
    const model = new MockLLM({
      script: [
        { text: 'abcdef', chunks: ['ab', 'c', 'def'] },
        { text: 'x', chunks: ['y'] },
      ],
    });
    const parts = await collect(model.stream(ask('a')));
    expect(parts.slice(0, 3)).toEqual([
      { type: 'text-delta', text: 'ab' },
      { type: 'text-delta', text: 'c' },
      { type: 'text-delta', text: 'def' },
    ]);
    await expect(collect(model.stream(ask('b')))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('streams text, then one tool-call delta per call, then finish with the same response as generate', async () => {
    const step = {
      text: 'Checking',
      toolCalls: [
        { name: 'a', arguments: { x: 1 } },
        { name: 'b', arguments: 'raw' },
      ],
    };
    const streamed = new MockLLM({ script: [step] });
    const generated = new MockLLM({ script: [step] });
    const parts = await collect(streamed.stream(ask('go')));
    expect(parts.map((part) => part.type)).toEqual(['text-delta', 'tool-call-delta', 'tool-call-delta', 'finish']);
    expect(parts[1]).toEqual({ type: 'tool-call-delta', index: 0, id: 'call_1', name: 'a', argumentsDelta: '{"x":1}' });
    expect(parts[2]).toEqual({ type: 'tool-call-delta', index: 1, id: 'call_2', name: 'b', argumentsDelta: 'raw' });
    const finish = parts[3] as Extract<ChatStreamPart, { type: 'finish' }>;
    expect(finish.response).toEqual(await generated.generate(ask('go')));
  });

  it('throws an error step on the first iteration, not when stream() is called', async () => {
    const boom = new Error('nope');
    const model = new MockLLM({ script: [{ error: boom }] });
    const stream = model.stream(ask('a'));
    expect(model.calls).toBe(0);
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toBe(boom);
    expect(model.calls).toBe(1);
  });
});

describe('MockLLM records', () => {
  it('records frozen deep copies without the signal', async () => {
    const model = new MockLLM({ fallback: { text: 'ok' } });
    const controller = new AbortController();
    const request: ChatRequest = {
      messages: [{ role: 'user', content: 'hello' }],
      tools: [{ name: 'search', description: 'find', parameters: { type: 'object', properties: { q: {} } } }],
      scope: { agentId: 'a1', tags: ['x'] },
      signal: controller.signal,
    };
    await model.generate(request);
    // the caller changing its request afterwards does not change the record
    request.messages.push({ role: 'user', content: 'later' });
    request.tools![0]!.name = 'changed';
    const record = model.lastRequest!;
    expect(record).toBe(model.requests[0]);
    expect(record).toEqual({
      messages: [{ role: 'user', content: 'hello' }],
      tools: [{ name: 'search', description: 'find', parameters: { type: 'object', properties: { q: {} } } }],
      scope: { agentId: 'a1', tags: ['x'] },
    });
    expect('signal' in record).toBe(false);
    // ES modules run in strict mode: writing to a frozen object throws
    expect(() => {
      record.messages.push({ role: 'user', content: 'x' });
    }).toThrow(TypeError);
    expect(() => {
      (record.messages[0] as { content: string }).content = 'x';
    }).toThrow(TypeError);
    expect(() => {
      (record.tools![0]!.parameters as { type: string }).type = 'x';
    }).toThrow(TypeError);
    expect(() => {
      record.scope!.tags!.push('y');
    }).toThrow(TypeError);
    expect(() => {
      (record as { model?: string }).model = 'x';
    }).toThrow(TypeError);
    expect(Object.isFrozen(record.tools![0]!.parameters.properties)).toBe(true);
  });

  it('records requests even for calls that fail', async () => {
    const model = new MockLLM({ script: [{ error: new Error('x') }] });
    await expect(model.generate(ask('a'))).rejects.toThrow('x');
    await expect(model.generate(ask('b'))).rejects.toMatchObject({ code: 'MOCK_SCRIPT_EXHAUSTED' });
    expect(model.requests.map((request) => request.messages[0]!.content)).toEqual(['a', 'b']);
  });

  it('skips recording with record: false but still counts calls', async () => {
    const model = new MockLLM({ record: false, fallback: (request) => ({ text: String(Object.isFrozen(request)) }) });
    expect((await model.generate(ask('a'))).message.content).toBe('false');
    expect(model.requests).toEqual([]);
    expect(model.lastRequest).toBeUndefined();
    expect(model.calls).toBe(1);
  });

  it('allocates no timer for a step without delay', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const model = new MockLLM({ fallback: { text: 'fast', toolCalls: [{ name: 'a', arguments: {} }] } });
    await model.generate(ask('a'));
    await collect(model.stream(ask('b')));
    expect(spy).not.toHaveBeenCalled();
  });
});

describe('MockLLM delay and abort', () => {
  it('waits delayMs on real timers before answering', async () => {
    vi.useFakeTimers();
    const model = new MockLLM({ script: [{ text: 'late', delayMs: 1_000 }] });
    let settled = false;
    const pending = model.generate(ask('a')).then((response) => {
      settled = true;
      return response;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((await pending).message.content).toBe('late');
  });

  it('rejects an already-aborted call with ABORTED without consuming a step or recording it', async () => {
    const model = new MockLLM({ script: [{ text: 'kept' }] });
    const controller = new AbortController();
    controller.abort();
    await expect(model.generate(ask('a', { signal: controller.signal }))).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(collect(model.stream(ask('a', { signal: controller.signal })))).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(model.calls).toBe(0);
    expect(model.requests).toHaveLength(0);
    expect((await model.generate(ask('b'))).message.content).toBe('kept');
  });

  it('rejects with ABORTED when the signal fires during the delay, and clears the timer', async () => {
    vi.useFakeTimers();
    const model = new MockLLM({ fallback: { text: 'never', delayMs: 10_000 } });
    const controller = new AbortController();
    const pending = model.generate(ask('a', { signal: controller.signal }));
    const streamed = collect(model.stream(ask('b', { signal: controller.signal })));
    await vi.advanceTimersByTimeAsync(500);
    expect(vi.getTimerCount()).toBe(2);
    controller.abort(new Error('user cancelled'));
    const error = (await rejection(pending)) as AgentrixError;
    expect(error.code).toBe('ABORTED');
    expect(error.message).toContain('user cancelled');
    await expect(streamed).rejects.toMatchObject({ code: 'ABORTED' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops a stream between parts when the signal fires', async () => {
    const model = new MockLLM({ script: [{ text: 'one two three four' }] });
    const controller = new AbortController();
    const seen: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const part of model.stream(ask('a', { signal: controller.signal }))) {
          if (part.type === 'text-delta') seen.push(part.text);
          if (seen.length === 2) controller.abort();
        }
      })(),
    );
    expect(seen).toEqual(['one ', 'two ']);
    expect(error).toMatchObject({ code: 'ABORTED' });
  });

  it('delays an error step too', async () => {
    vi.useFakeTimers();
    const model = new MockLLM({ script: [{ error: new Error('late failure'), delayMs: 100 }] });
    let rejected = false;
    const pending = model.generate(ask('a')).catch((error: Error) => {
      rejected = true;
      return error;
    });
    await vi.advanceTimersByTimeAsync(99);
    expect(rejected).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(((await pending) as Error).message).toBe('late failure');
  });
});
