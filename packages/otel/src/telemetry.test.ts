import { defineTool } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AgentrixTelemetry } from './telemetry.js';
import { memoryMetrics, memoryTracing, points } from './test-support.js';

const weather = defineTool({
  name: 'weather',
  description: 'Current temperature in a city',
  input: z.object({ city: z.string() }),
  async execute({ city }) {
    return { city, celsius: 21 };
  },
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function twoStepModel(reply = 'It is 21 °C in Oslo.') {
  return new MockLLM({
    name: 'mock-large',
    script: [
      { toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }], usage: { inputTokens: 12, outputTokens: 5 } },
      { text: reply, usage: { inputTokens: 30, outputTokens: 9 } },
    ],
  });
}

async function traced(options: { recordContent?: boolean; maxAttributeLength?: number; secrets?: string[] } = {}) {
  const tracing = memoryTracing();
  const meters = memoryMetrics();
  const agentrix = await createAgentrix({
    model: twoStepModel(options.secrets ? `the key is ${options.secrets[0]}` : undefined),
    tools: [weather],
    ...(options.secrets ? { secrets: options.secrets } : {}),
    telemetry: { tracerProvider: tracing.provider, meterProvider: meters.provider, ...options },
  });
  cleanups.push(
    () => tracing.close(),
    () => meters.close(),
    () => agentrix.close(),
  );
  await agentrix.create({ id: 'assistant', tools: ['weather'] });
  return { agentrix, tracing, meters };
}

describe('traces', () => {
  it('a 2-step turn with a tool is one trace: send -> invoke_agent -> chat, execute_tool, chat', async () => {
    const { agentrix, tracing } = await traced();
    expect((await agentrix.ask('assistant', 'Weather in Oslo?')).content).toBe('It is 21 °C in Oslo.');
    // The reply goes out before the turn commits: its span ends with the commit.
    await agentrix.waitForIdle();

    const [send] = tracing.named('send assistant');
    const [turn] = tracing.named('invoke_agent assistant');
    const chats = tracing.named('chat mock-large');
    const [tool] = tracing.named('execute_tool weather');
    const replies = tracing.spans().filter((span) => span.name.startsWith('send host:'));
    expect(send && turn && tool).toBeTruthy();
    expect(chats).toHaveLength(2);
    // A reply to this process's own asks is handed over in memory (no bus send, no span); one to
    // another process is a `send host:<consumer>` span under the turn (one-trace.int.test.ts).
    expect(replies.length).toBeLessThanOrEqual(1);
    const traceId = send!.spanContext().traceId;
    for (const span of tracing.spans()) expect(span.spanContext().traceId).toBe(traceId);

    expect(send!.kind).toBe(SpanKind.PRODUCER);
    expect(send!.parentSpanContext).toBeUndefined();
    expect(turn!.parentSpanContext?.spanId).toBe(send!.spanContext().spanId);
    for (const child of [...chats, tool!, ...replies]) {
      expect(child.parentSpanContext?.spanId).toBe(turn!.spanContext().spanId);
    }
    // In order: model, tool, model.
    const [first, second] = [...chats].sort(
      (a, b) => (a.attributes['agentrix.step'] as number) - (b.attributes['agentrix.step'] as number),
    );
    // Within a millisecond: the SDK stamps a span's default start with Date.now() (whole
    // milliseconds), the model spans' ends are sub-millisecond; a turn this fast puts the first
    // model's end and the tool's start in the same millisecond (seen at 0.108 ms apart in CI).
    expect(toMs(first!.endTime)).toBeLessThanOrEqual(toMs(tool!.startTime) + 1);
    expect(toMs(tool!.endTime)).toBeLessThanOrEqual(toMs(second!.endTime) + 1);
    expect(toMs(first!.endTime)).toBeLessThan(toMs(second!.endTime));

    expect(turn!.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.id': 'assistant',
      'agentrix.thread.id': 'main',
      'agentrix.message.attempt': 1,
      'gen_ai.usage.input_tokens': 42,
      'gen_ai.usage.output_tokens': 14,
      'agentrix.turn.steps': 2,
      'agentrix.turn.stop_reason': 'final',
      'agentrix.outcome': 'completed',
    });
    expect(first!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'mock-large',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.response.finish_reasons': ['tool_calls'],
    });
    expect(tool!.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'weather' });
    expect(send!.attributes).toMatchObject({
      'messaging.operation.name': 'send',
      'messaging.destination.name': 'assistant',
    });
    // No content unless asked for.
    for (const span of tracing.spans()) {
      expect(
        Object.keys(span.attributes).filter((key) => key.includes('messages') || key.includes('arguments')),
      ).toEqual([]);
    }
    expect(agentrix.bus.inner).toBeDefined();
  });

  it('records content only when asked, redacted of secrets and bounded', async () => {
    const secret = 'sk-live-0123456789abcdef0123456789abcdef';
    const { agentrix, tracing } = await traced({ recordContent: true, maxAttributeLength: 64, secrets: [secret] });
    await agentrix.ask('assistant', `Weather in Oslo? ${'please '.repeat(40)}`);
    await agentrix.waitForIdle();
    const [turn] = tracing.named('invoke_agent assistant');
    const input = turn!.attributes['gen_ai.input.messages'] as string;
    const output = turn!.attributes['gen_ai.output.messages'] as string;
    expect(input.length).toBeLessThanOrEqual(64);
    expect(input).toMatch(/more\]$/);
    expect(output).not.toContain(secret);
    expect(JSON.stringify(tracing.spans().map((span) => span.attributes))).not.toContain(secret);
    const [tool] = tracing.named('execute_tool weather');
    expect(tool!.attributes['gen_ai.tool.call.arguments']).toBe('{"city":"Oslo"}');
  });

  it('marks a failed tool and a failed turn as errors', async () => {
    const tracing = memoryTracing();
    const broken = defineTool({
      name: 'broken',
      description: 'fails',
      input: z.object({}),
      async execute() {
        throw new Error('disk full');
      },
    });
    const agentrix = await createAgentrix({
      model: new MockLLM({
        script: [
          { toolCalls: [{ name: 'broken', arguments: {} }] },
          { error: { code: 'INVALID_ARGUMENT', message: 'bad request' } },
        ],
      }),
      tools: [broken],
      telemetry: { tracerProvider: tracing.provider },
    });
    cleanups.push(
      () => tracing.close(),
      () => agentrix.close(),
    );
    await agentrix.create({ id: 'a1', tools: ['broken'] });
    await expect(agentrix.ask('a1', 'go', { timeoutMs: 5_000 })).rejects.toThrow();
    await agentrix.waitForIdle();
    const [tool] = tracing.named('execute_tool broken');
    expect(tool!.status.code).toBe(SpanStatusCode.ERROR);
    const turns = tracing.named('invoke_agent a1');
    expect(turns.length).toBeGreaterThan(0);
    expect(turns[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(turns[0]!.attributes['agentrix.outcome']).toBe('failed');
  });

  it('a tracer provider that throws never fails a turn: the failure is counted', async () => {
    const throwing = {
      getTracer: () => ({
        startSpan: () => {
          throw new Error('exporter misconfigured');
        },
        startActiveSpan: () => {
          throw new Error('exporter misconfigured');
        },
      }),
    };
    const telemetry = new AgentrixTelemetry({ tracerProvider: throwing as never });
    const agentrix = await createAgentrix({ model: new MockLLM({ fallback: { text: 'pong' } }), telemetry });
    cleanups.push(() => agentrix.close());
    await agentrix.create({ id: 'a1' });
    await agentrix.create({ id: 'a2' });
    expect((await agentrix.ask('a1', 'ping')).content).toBe('pong');
    expect((await agentrix.ask('a2', 'ping')).content).toBe('pong');
    // Sends (ask, reply) and turn starts each failed to trace, and each was caught.
    expect(telemetry.failures).toBeGreaterThanOrEqual(6);
  });

  it('refuses a bound too small to keep anything readable', () => {
    expect(() => new AgentrixTelemetry({ maxAttributeLength: 3 })).toThrow(/maxAttributeLength/);
  });
});

describe('metrics', () => {
  it('turn and model latency, tokens by agent and model, tool failures, queue time', async () => {
    const { agentrix, meters } = await traced();
    await agentrix.ask('assistant', 'Weather in Oslo?');
    await agentrix.waitForIdle();
    const collected = await meters.collect();
    const turns = points(collected, 'agentrix.turn.duration');
    expect(turns).toHaveLength(1);
    expect(turns[0]!.attributes).toMatchObject({ 'gen_ai.agent.id': 'assistant', 'agentrix.outcome': 'completed' });
    expect((turns[0]!.value as { count: number }).count).toBe(1);
    const tokens = points(collected, 'gen_ai.client.token.usage');
    const input = tokens.find((point) => point.attributes['gen_ai.token.type'] === 'input');
    expect(input?.attributes).toMatchObject({ 'gen_ai.request.model': 'mock-large', 'gen_ai.agent.id': 'assistant' });
    expect((input!.value as { sum: number }).sum).toBe(42);
    expect((points(collected, 'gen_ai.client.operation.duration')[0]!.value as { count: number }).count).toBe(2);
    expect(points(collected, 'agentrix.message.queue_time')).toHaveLength(1);
    const depth = points(collected, 'agentrix.queue.depth');
    expect(depth.find((point) => point.attributes['messaging.destination.name'] === 'assistant')).toBeDefined();
    expect(points(collected, 'agentrix.pool.waiters')[0]!.value).toBe(0);
  });
});

function toMs([seconds, nanos]: [number, number]): number {
  return seconds * 1000 + nanos / 1e6;
}
