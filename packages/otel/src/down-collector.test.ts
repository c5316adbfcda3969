import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { defineTool } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

// Issue 18, bad input: a misconfigured exporter or a collector that is down never slows or fails
// a turn. Two collectors: a closed port (connection refused) and one that accepts and never answers.
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(onConnection: (socket: Socket) => void): Promise<{ port: number; server: Server }> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

async function closedPort(): Promise<number> {
  const { port, server } = await listen(() => {});
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function silentCollector(): Promise<number> {
  const sockets = new Set<Socket>();
  const { port, server } = await listen((socket) => {
    sockets.add(socket); // reads the request, never answers
  });
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return port;
}

const echo = defineTool({
  name: 'echo',
  description: 'echoes',
  input: z.object({ text: z.string() }),
  async execute({ text }) {
    return text;
  },
});

describe.each([
  ['a closed port', closedPort, 'simple'],
  ['a collector that never answers', silentCollector, 'simple'],
  ['a collector that never answers, batched', silentCollector, 'batch'],
] as const)('exporting to %s', (_name, collector, processor) => {
  it('turns run as without telemetry: every ask answered, nothing thrown', async () => {
    const port = await collector();
    // The exporter's own timeout is 10 s by default: a turn that waited on it would show.
    const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${port}/v1/traces`, timeoutMillis: 10_000 });
    const provider = new BasicTracerProvider({
      spanProcessors: [processor === 'batch' ? new BatchSpanProcessor(exporter) : new SimpleSpanProcessor(exporter)],
    });
    const agentrix = await createAgentrix({
      model: new MockLLM({
        fallback: (request) =>
          request.messages.at(-1)?.role === 'tool'
            ? { text: 'done' }
            : { toolCalls: [{ name: 'echo', arguments: { text: 'x' } }] },
      }),
      tools: [echo],
      telemetry: { tracerProvider: provider },
    });
    cleanups.push(async () => {
      await agentrix.close();
      // Shutting the provider down waits for the export that never ends: not awaited past a moment.
      await Promise.race([provider.shutdown().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 100))]);
    });
    await agentrix.create({ id: 'a1', tools: ['echo'] });
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) => agentrix.ask('a1', `q${index}`, { threadId: `t${index % 4}` })),
    );
    const elapsedMs = performance.now() - started;
    expect(answers.map((answer) => answer.content)).toEqual(Array(20).fill('done'));
    // 20 two-step turns take ~50 ms here; one export awaited per span would take 10 s.
    expect(elapsedMs).toBeLessThan(5_000);
  });
});
