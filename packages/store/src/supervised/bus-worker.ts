// A worker for the supervisor's integration test: runs one agent on a durable store and crashes
// itself (exit code 1) after every WORKER_CRASH_EVERY handled messages. Exits 0 once its inbox
// is empty. Run by the Supervisor under test, never directly by vitest.
//
//   node --conditions=agentrix-source --import tsx bus-worker.ts
//   env: WORKER_DATABASE_URL, WORKER_SCHEMA (optional), WORKER_AGENT, WORKER_CRASH_EVERY (default 2)
import { type ChatModel, type ChatRequest, type ChatResponse, emptyUsage, sleep } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import { createAgentrixStore } from '../agentrix-store.js';

const CONSUMER = 'supervised-worker';
const url = process.env.WORKER_DATABASE_URL;
const schema = process.env.WORKER_SCHEMA || undefined;
const agentId = process.env.WORKER_AGENT;
const crashEvery = Number(process.env.WORKER_CRASH_EVERY ?? 2);
if (!url || !agentId) throw new Error('set WORKER_DATABASE_URL and WORKER_AGENT');

/** Answers `answer: <the last user message>`. */
const model: ChatModel = {
  name: 'echo',
  async generate(request: ChatRequest): Promise<ChatResponse> {
    const last = request.messages.filter((message) => message.role === 'user').at(-1);
    const text = typeof last?.content === 'string' ? last.content : '';
    return {
      message: { role: 'assistant', content: `answer: ${text}` },
      finishReason: 'stop',
      usage: emptyUsage(),
      model: 'echo',
    };
  },
  async *stream(request: ChatRequest) {
    yield { type: 'finish' as const, response: await model.generate(request) };
  },
};

const store = await createAgentrixStore({
  url,
  ...(schema ? { schema } : {}),
  consumer: CONSUMER,
  leaseMs: 10_000,
  maxDeliveries: 50,
  maxConnections: 4,
  vector: 'off',
});
// This process replaces one that crashed: take back at once what it held (not after the lease).
await store.bus.releaseConsumer(agentId, CONSUMER);

// The store's bus, contexts and registry; the store is the host's, closed below.
const agentrix = await createAgentrix({ store, model, consumer: CONSUMER });
let handled = 0;
// turn.completed comes after the reply is sent and the message acked.
agentrix.events.on('turn.completed', () => {
  handled++;
  if (handled % crashEvery === 0) process.exit(1);
});
await agentrix.restore();
if (!agentrix.has(agentId)) await agentrix.create({ id: agentId, instructions: 'Answer briefly.', maxHistory: 20 });

for (;;) {
  const stats = await store.bus.stats(agentId);
  if (stats.unread === 0 && stats.inFlight === 0) break;
  await sleep(100);
}
await agentrix.close();
await store.close();
process.exit(0);
