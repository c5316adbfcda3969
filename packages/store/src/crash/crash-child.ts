// The process the crash test kills: runs agents on a durable store until every inbox is empty.
//
//   node --conditions=agentrix-source --import tsx crash-child.ts
//   env: CRASH_DATABASE_URL, CRASH_SCHEMA (optional), CRASH_AGENTS (comma list)
//
// Prints READY once its agents run, then DONE and exits 0 when no agent has a message left.
import { sleep } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM, type MockRequest } from '@agentrix/testing';
import { sql } from 'kysely';
import { createAgentrixStore } from '../index.js';

/** A restarted process brings its agents back from the registry. `false`: re-create them by id instead. */
const USE_REGISTRY_RESTORE = true;

const CONSUMER = 'crash-worker';
const url = process.env.CRASH_DATABASE_URL;
const schema = process.env.CRASH_SCHEMA || undefined;
const agentIds = (process.env.CRASH_AGENTS ?? '').split(',').filter(Boolean);
if (!url || agentIds.length === 0) throw new Error('set CRASH_DATABASE_URL and CRASH_AGENTS');

function lastUserText(request: MockRequest): string {
  for (let index = request.messages.length - 1; index >= 0; index--) {
    const message = request.messages[index]!;
    if (message.role === 'user') return typeof message.content === 'string' ? message.content : '';
  }
  return '';
}

const store = await createAgentrixStore({
  url,
  ...(schema ? { schema } : {}),
  consumer: CONSUMER,
  leaseMs: 10_000,
  maxDeliveries: 50,
  maxConnections: 4,
  vector: 'off', // the store's tables need no pgvector; loading it costs PGlite about a second
});
// This process replaces the one that was killed: take back what it held at once (not after the lease).
for (const id of agentIds) await store.bus.releaseConsumer(id, CONSUMER);

const model = new MockLLM({ record: false, fallback: (request) => ({ text: `answer: ${lastUserText(request)}` }) });
// The store's bus, contexts and registry; the store is the host's, closed below.
const agentrix = await createAgentrix({ store, model, consumer: CONSUMER });
if (USE_REGISTRY_RESTORE) await agentrix.restore();
for (const id of agentIds) {
  if (!agentrix.has(id)) await agentrix.create({ id, instructions: 'Answer briefly.', maxHistory: 20 });
}
process.stdout.write('READY\n');
if (process.env.CRASH_TIMING) process.stderr.write(`ready after ${Math.round(performance.now())} ms\n`);

// One cheap query every 200 ms (PGlite runs one statement at a time: do not crowd the agents out).
for (;;) {
  const pending = await sql<{ n: unknown }>`select count(*) as n from agentrix_bus_messages
    where inbox = any(${`{${agentIds.join(',')}}`}::text[]) and state in ('ready', 'leased')`.execute(
    store.database.kysely,
  );
  if (Number(pending.rows[0]?.n) === 0) break;
  await sleep(200);
}
process.stdout.write('DONE\n');
await agentrix.close();
await store.close();
process.exit(0);
