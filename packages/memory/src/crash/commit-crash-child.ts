// The process commit-crash.int.test.ts kills: an agent with memory on a durable store answers
// what is in its inbox. With COMMIT_BLOCK=1 a turn commit hook registered after memory's prints
// COMMITTED <message id> and never returns, so the parent SIGKILLs the process after memory wrote
// the episode and before the context is saved and the message acked. Without it, the process
// answers everything, prints SUMMARIES <summary calls> and DONE, and exits 0.
//
//   node --conditions=agentrix-source --import tsx commit-crash-child.ts
//   env: COMMIT_DATABASE_URL, COMMIT_SCHEMA (optional), COMMIT_BLOCK ('1' or unset)
import { sleep, type TurnCommitHook } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import { createAgentrixStore } from '@agentrix/store';
import { MockLLM, type MockRequest } from '@agentrix/testing';
import { createMemory, withMemory } from '../index.js';

const AGENT = 'assistant';
const CONSUMER = 'commit-crash-worker';
const url = process.env.COMMIT_DATABASE_URL;
const schema = process.env.COMMIT_SCHEMA || undefined;
const block = process.env.COMMIT_BLOCK === '1';
if (!url) throw new Error('set COMMIT_DATABASE_URL');

const said = (request: MockRequest) => request.messages.at(-1)?.content ?? '';

const store = await createAgentrixStore({ url, ...(schema ? { schema } : {}), consumer: CONSUMER, vector: 'off' });
// This process replaces the one that was killed: take back what it held at once (not after the lease).
await store.bus.releaseConsumer(AGENT, CONSUMER);
const summaries = new MockLLM({
  record: false,
  fallback: (request) => {
    const color = /colou?r is (\w+)/.exec(said(request))?.[1];
    const stableFacts = color ? [{ key: 'user.favourite_color', text: `The user's favourite colour is ${color}` }] : [];
    return { text: JSON.stringify({ topic: said(request).slice(0, 60), stableFacts }) };
  },
});
const memory = await createMemory({ database: store.database, model: summaries });
const model = withMemory(
  new MockLLM({ record: false, fallback: (request) => ({ text: `answer: ${said(request)}` }) }),
  memory,
);
const blocker: TurnCommitHook = (commit) => {
  process.stdout.write(`COMMITTED ${commit.messageId}\n`);
  return new Promise(() => {});
};
const agentrix = await createAgentrix({
  bus: store.bus,
  contextStore: store.contexts,
  model,
  consumer: CONSUMER,
  onTurnCommit: block ? [model.commitTurn, blocker] : model.commitTurn,
});
await agentrix.create({ id: AGENT, instructions: 'Answer briefly.', scope: { userId: 'ada' } });
if (block) {
  setInterval(() => {}, 60_000); // waits for the kill
} else {
  for (;;) {
    const stats = await store.bus.stats(AGENT);
    if (stats.unread + stats.inFlight === 0) break;
    await sleep(50);
  }
  await agentrix.close();
  process.stdout.write(`SUMMARIES ${summaries.calls}\nDONE\n`);
  await store.close();
  process.exit(0);
}
