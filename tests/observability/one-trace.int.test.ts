import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type Agentrix, createAgentrix } from '@agentrix/runtime';
import { JobQueue, JobWorker } from '@agentrix/scheduler';
import { MockLLM } from '@agentrix/testing';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReadyScript, stopScript } from '../lifetime/run-script.js';
import { type ReceivedSpan, startOtlpReceiver } from './otlp-receiver.js';

// Issue 18, item 5: one ask() served by another process on Redis is one trace. Both processes
// export with the real OTLP/HTTP exporter to a small receiver here; the trace ids must match. The
// remote turn's tool adds a job that this process runs: its span is in that trace too.
const script = fileURLToPath(new URL('./remote-traced-host.script.ts', import.meta.url));
const namespace = `trace-${randomUUID()}`;
const schema = `trace_${randomUUID().replaceAll('-', '')}`;

let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
let provider: BasicTracerProvider;
let agentrix: Agentrix;
let child: ChildProcess;

beforeAll(async () => {
  const { REDIS_URL, DATABASE_URL } = process.env;
  if (!REDIS_URL || !DATABASE_URL) throw new Error('REDIS_URL and DATABASE_URL must be set: run through `pnpm test`');
  receiver = await startOtlpReceiver();
  provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: receiver.url }))],
  });
  agentrix = await createAgentrix({
    store: { url: DATABASE_URL, schema },
    bus: { url: REDIS_URL, namespace },
    model: new MockLLM({ fallback: { text: 'unused' } }),
    telemetry: { tracerProvider: provider },
  });
  child = await startReadyScript(script, { TEST_NAMESPACE: namespace, TEST_SCHEMA: schema, OTLP_URL: receiver.url });
});

afterAll(async () => {
  if (child) await stopScript(child);
  await agentrix?.close();
  await provider?.shutdown();
  await agentrix?.store?.database.kysely.schema
    .dropSchema(schema)
    .ifExists()
    .cascade()
    .execute()
    .catch(() => {});
  await receiver?.close();
});

describe('one trace across two processes (Redis bus, OTLP/HTTP)', () => {
  it('the ask, the remote turn with its model and tool calls, the reply and the job its tool added share one trace id', async () => {
    expect((await agentrix.ask('remote', 'define trace', { timeoutMs: 20_000 })).content).toBe('remote answered');
    const queue = await JobQueue.open({
      database: agentrix.store!.database,
      queue: namespace,
      tracing: agentrix.telemetry,
    });
    await using worker = new JobWorker({ queue, handlers: { index: { handler: () => 'indexed' } } });
    expect(await worker.runOnce()).toBe(1);
    // The remote process flushes its spans when it closes.
    const closed = new Promise<void>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        if (String(chunk).includes('CLOSED')) resolve();
      });
    });
    child.kill('SIGTERM');
    await closed;
    await provider.forceFlush();

    const spans = receiver.spans;
    const named = (name: string) => spans.filter((span) => span.name === name);
    const [send] = named('send remote');
    const [turn] = named('invoke_agent remote');
    const chats = named('chat remote-model');
    const [tool] = named('execute_tool lookup');
    const reply = spans.find((span) => span.name.startsWith('send host:'));
    const [job] = named('job index');
    expect(send && turn && tool && reply && job).toBeTruthy();
    expect(chats).toHaveLength(2);
    const trace = send!.traceId;
    for (const span of [turn, tool, reply, job, ...chats] as ReceivedSpan[]) expect(span.traceId).toBe(trace);
    expect(job!.parentSpanId).toBe(turn!.spanId);
    expect(turn!.parentSpanId).toBe(send!.spanId);
    expect(tool!.parentSpanId).toBe(turn!.spanId);
    expect(reply!.parentSpanId).toBe(turn!.spanId);
    expect(turn!.attributes['gen_ai.agent.id']).toBe('remote');
    expect(chats[0]!.attributes['gen_ai.request.model']).toBe('remote-model');
  });
});
