import { defineTool } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import { JobQueue, JobWorker } from '@agentrix/scheduler';
import { openDatabase } from '@agentrix/store';
import { MockLLM } from '@agentrix/testing';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AgentrixTelemetry } from './telemetry.js';
import { memoryMetrics, memoryTracing, points } from './test-support.js';

// A real JobQueue and JobWorker on one in-memory PGlite for the file (~2 s), and the context
// manager NodeSDK registers (the active span follows async work).
let database: Awaited<ReturnType<typeof openDatabase>>;
const contextManager = new AsyncLocalStorageContextManager();
beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  database = await openDatabase('memory://');
}, 30_000);
afterAll(async () => {
  context.disable();
  await database?.close();
});

const queueName = (name: string) => `${name}-${crypto.randomUUID()}`;

describe('traced jobs', () => {
  it('a job added inside a span stores its trace; each attempt is a job span, child of it; failures are errors', async () => {
    const tracing = memoryTracing();
    const meters = memoryMetrics();
    const telemetry = new AgentrixTelemetry({ tracerProvider: tracing.provider, meterProvider: meters.provider });
    const queue = await JobQueue.open({ database, queue: queueName('traced'), tracing: telemetry });
    const seen: (string | undefined)[] = [];
    const worker = new JobWorker({
      queue,
      pollIntervalMs: 20,
      handlers: {
        report: {
          schema: z.object({ week: z.number() }),
          handler: (payload: { week: number }) => {
            // The job span is active while the handler runs.
            seen.push(trace.getActiveSpan()?.spanContext().spanId);
            if (payload.week === 13) throw new Error('unlucky week');
            return payload.week;
          },
        },
      },
    });
    // Added inside a span of the host: the job continues that trace, its payload untouched.
    const parent = tracing.provider.getTracer('host').startSpan('plan the week');
    const { id } = await context.with(trace.setSpan(context.active(), parent), () =>
      queue.add({ type: 'report', payload: { week: 12 } }),
    );
    parent.end();
    await queue.add({ type: 'report', payload: { week: 13 }, maxAttempts: 1 });
    const stored = await queue.get(id);
    expect(stored?.payload).toEqual({ week: 12 });
    expect(stored?.trace?.traceparent).toBe(`00-${parent.spanContext().traceId}-${parent.spanContext().spanId}-01`);
    await worker.start();
    await expect.poll(() => tracing.named('job report').length, { timeout: 10_000 }).toBe(2);
    await worker.close();

    const jobs = tracing.named('job report');
    const traced = jobs.find((span) => span.spanContext().traceId === parent.spanContext().traceId);
    expect(traced?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(traced?.kind).toBe(SpanKind.CONSUMER);
    expect(traced?.attributes).toMatchObject({ 'agentrix.job.type': 'report', 'agentrix.outcome': 'completed' });
    const failed = jobs.find((span) => span !== traced);
    expect(failed?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'unlucky week' });
    expect(failed?.parentSpanContext).toBeUndefined();
    expect(seen.sort()).toEqual(jobs.map((span) => span.spanContext().spanId).sort());

    const durations = points(await meters.collect(), 'agentrix.job.duration');
    expect(durations.map((point) => point.attributes['agentrix.outcome']).sort()).toEqual(['completed', 'failed']);
    await tracing.close();
    await meters.close();
  });

  it('a job a tool adds during an ask() runs in the trace of that ask, under its turn', async () => {
    const tracing = memoryTracing();
    const telemetry = new AgentrixTelemetry({ tracerProvider: tracing.provider });
    const queue = await JobQueue.open({ database, queue: queueName('ask'), tracing: telemetry });
    const schedule = defineTool({
      name: 'schedule',
      description: 'Schedules a report',
      input: z.object({ week: z.number() }),
      async execute({ week }) {
        return queue.add({ type: 'report', payload: { week } });
      },
    });
    await using agentrix = await createAgentrix({
      model: new MockLLM({
        script: [{ toolCalls: [{ name: 'schedule', arguments: { week: 7 } }] }, { text: 'scheduled' }],
      }),
      tools: [schedule],
      telemetry,
    });
    expect(agentrix.telemetry).toBe(telemetry);
    await agentrix.create({ id: 'planner', tools: ['schedule'] });
    expect((await agentrix.ask('planner', 'schedule week 7')).content).toBe('scheduled');
    const worker = new JobWorker({ queue, pollIntervalMs: 20, handlers: { report: { handler: () => 'done' } } });
    await worker.start();
    await expect.poll(() => tracing.named('job report').length, { timeout: 10_000 }).toBe(1);
    await worker.close();

    const [send] = tracing.named('send planner');
    const [turn] = tracing.named('invoke_agent planner');
    const [job] = tracing.named('job report');
    expect(turn?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
    expect(job?.spanContext().traceId).toBe(send?.spanContext().traceId);
    expect(job?.parentSpanContext?.spanId).toBe(turn?.spanContext().spanId);
    await tracing.close();
  });

  it('a malformed trace is INVALID_ARGUMENT and adds nothing; no telemetry stores none', async () => {
    const queue = await JobQueue.open({ database, queue: queueName('plain') });
    await expect(queue.add({ type: 'report', trace: { traceparent: 'not-a-traceparent' } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await queue.list()).toEqual([]);
    const { id } = await queue.add({ type: 'report' });
    expect((await queue.get(id))?.trace).toBeUndefined();
  });

  it('carrier() is the active span as a W3C traceparent, or nothing outside a span', () => {
    expect(new AgentrixTelemetry().carrier()).toBeUndefined();
  });
});
