import { JobQueue, JobWorker } from '@agentrix/scheduler';
import { openDatabase } from '@agentrix/store';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AgentrixTelemetry } from './telemetry.js';
import { memoryMetrics, memoryTracing, points } from './test-support.js';

// A real JobQueue and JobWorker on one in-memory PGlite for the file (~2 s).
let database: Awaited<ReturnType<typeof openDatabase>>;
beforeAll(async () => {
  database = await openDatabase('memory://');
}, 30_000);
afterAll(() => database?.close());

describe('traced jobs', () => {
  it('each attempt is a job span, child of the trace its payload carries; failures are errors', async () => {
    const tracing = memoryTracing();
    const meters = memoryMetrics();
    const telemetry = new AgentrixTelemetry({ tracerProvider: tracing.provider, meterProvider: meters.provider });
    const queue = await JobQueue.open({ database, queue: `traced-${Date.now()}` });
    const worker = new JobWorker({
      queue,
      pollIntervalMs: 20,
      handlers: telemetry.traceJobs({
        report: {
          schema: z.object({ week: z.number() }),
          handler: (payload: { week: number }) => {
            if (payload.week === 13) throw new Error('unlucky week');
            return payload.week;
          },
        },
      }),
    });
    // Added inside a span of the host: the job continues that trace.
    const parent = tracing.provider.getTracer('host').startSpan('plan the week');
    const carrier = (() => {
      const spanContext = parent.spanContext();
      return { traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-01` };
    })();
    await queue.add({ type: 'report', payload: { week: 12, trace: carrier } });
    await queue.add({ type: 'report', payload: { week: 13 }, maxAttempts: 1 });
    parent.end();
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

    const durations = points(await meters.collect(), 'agentrix.job.duration');
    expect(durations.map((point) => point.attributes['agentrix.outcome']).sort()).toEqual(['completed', 'failed']);
    await tracing.close();
    await meters.close();
  });

  it('carrier() is the active span as a W3C traceparent, or nothing outside a span', () => {
    expect(new AgentrixTelemetry().carrier()).toBeUndefined();
  });
});
