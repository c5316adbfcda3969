// Another process hosting a traced agent on a shared Redis bus and Postgres registry (run by
// one-trace.int.test.ts). Its tool adds a job to a queue in that Postgres, run by the test's
// process. Spans go to the test's OTLP/HTTP receiver. Prints READY; on SIGTERM it closes,
// flushes its spans and prints CLOSED.
import { defineTool } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import { JobQueue } from '@agentrix/scheduler';
import { MockLLM } from '@agentrix/testing';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { z } from 'zod';

const { REDIS_URL, DATABASE_URL, TEST_NAMESPACE, TEST_SCHEMA, OTLP_URL } = process.env;
// What NodeSDK registers: the active span follows async work (a tool's job continues its turn).
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const provider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: OTLP_URL! }))],
});
const lookup = defineTool({
  name: 'lookup',
  description: 'Looks a word up',
  input: z.object({ word: z.string() }),
  async execute({ word }) {
    await queue.add({ type: 'index', payload: { word } });
    return { word, meaning: 'a test' };
  },
});
const agentrix = await createAgentrix({
  store: { url: DATABASE_URL!, schema: TEST_SCHEMA! },
  bus: { url: REDIS_URL!, namespace: TEST_NAMESPACE! },
  model: new MockLLM({
    name: 'remote-model',
    fallback: (request) =>
      request.messages.at(-1)?.role === 'tool'
        ? { text: 'remote answered' }
        : { toolCalls: [{ name: 'lookup', arguments: { word: 'trace' } }] },
  }),
  tools: [lookup],
  telemetry: { tracerProvider: provider },
});
const queue = await JobQueue.open({
  database: agentrix.store!.database,
  queue: TEST_NAMESPACE!,
  tracing: agentrix.telemetry,
});
await agentrix.create({ id: 'remote', tools: ['lookup'] });
console.log('READY');
process.once('SIGTERM', async () => {
  await agentrix.close();
  await provider.forceFlush();
  await provider.shutdown();
  console.log('CLOSED');
});
