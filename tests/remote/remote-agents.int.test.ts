import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createRedisBus } from '@agentrix/bus';
import type { ChatRequest, ToolMessage } from '@agentrix/core';
import { AgentManager } from '@agentrix/runtime';
import { createAgentrixStore } from '@agentrix/store';
import { MockLLM } from '@agentrix/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReadyScript, stopScript } from '../lifetime/run-script.js';

// Issue 13, item 4, across processes: this process and a child share a Redis bus and a Postgres
// registry; the child hosts `remote`. Asks, failures, send_message and delegation reach it.
const script = fileURLToPath(new URL('./remote-host.script.ts', import.meta.url));
const namespace = `remote-${randomUUID()}`;
const schema = `remote_${randomUUID().replaceAll('-', '')}`;

let child: ChildProcess;
let store: Awaited<ReturnType<typeof createAgentrixStore>>;
let bus: Awaited<ReturnType<typeof createRedisBus>>;
let agentrix: AgentManager;
const lastTool = (request: ChatRequest) => {
  const message = request.messages.at(-1);
  return message?.role === 'tool' ? (message as ToolMessage) : undefined;
};
const local = new MockLLM({
  fallback: (request) => {
    const content = String(request.messages.at(-1)?.content ?? '');
    const tool = lastTool(request);
    if (tool) return { text: `delegated: ${tool.content}` };
    if (content === 'delegate')
      return { toolCalls: [{ name: 'ask_agent', arguments: { agent: 'remote', task: 'sum it up' } }] };
    if (content === 'notify') {
      return { toolCalls: [{ name: 'send_message', arguments: { to: 'remote', content: 'hello from here' } }] };
    }
    return { text: `noted: ${content}` };
  },
});

beforeAll(async () => {
  const { REDIS_URL, DATABASE_URL } = process.env;
  if (!REDIS_URL || !DATABASE_URL) throw new Error('REDIS_URL and DATABASE_URL must be set: run through `pnpm test`');
  store = await createAgentrixStore({ url: DATABASE_URL, schema });
  bus = await createRedisBus({ url: REDIS_URL, namespace, maxDeliveries: 1 });
  agentrix = new AgentManager({ bus, registry: store.registry, contextStore: store.contexts, model: local });
  await agentrix.create({ id: 'local', tools: ['ask_agent', 'send_message'] });
  child = await startReadyScript(script, { TEST_NAMESPACE: namespace, TEST_SCHEMA: schema });
}, 60_000);

afterAll(async () => {
  if (child) await stopScript(child);
  await agentrix?.close();
  await bus?.close();
  if (store) {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.database.kysely);
    await store.close();
  }
});

describe('agents in another process', () => {
  it('ask() reaches an agent hosted by another process', async () => {
    expect(agentrix.has('remote')).toBe(false);
    expect((await agentrix.ask('remote', 'ping', { timeoutMs: 10_000 })).content).toBe('remote says: ping');
  });

  it("gets the remote agent's failure at once, typed, not at its timeout", async () => {
    const started = Date.now();
    await expect(agentrix.ask('remote', 'please fail', { timeoutMs: 30_000 })).rejects.toMatchObject({
      code: 'PROVIDER_BAD_REQUEST',
      message: expect.stringMatching(/the provider refused this/),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('send_message from a tool reaches the other process, and the reply comes back as a turn', async () => {
    await agentrix.send({ to: 'local', content: 'notify' });
    await expect
      .poll(
        () => local.requests.some((request) => request.messages.at(-1)?.content === 'remote says: hello from here'),
        {
          timeout: 10_000,
        },
      )
      .toBe(true);
  });

  it('an agent delegates a sub-task to an agent of the other process within its turn', async () => {
    const reply = await agentrix.ask('local', 'delegate', { timeoutMs: 10_000 });
    expect(reply.content).toBe('delegated: {"agent":"remote","answer":"remote says: sum it up"}');
  });

  it('an ask to a remote agent that never answers ends at its timeout', async () => {
    // Stop the other process: the registry still says `remote` is idle, but nobody reads its inbox.
    await stopScript(child);
    const started = Date.now();
    await expect(agentrix.ask('remote', 'anyone?', { timeoutMs: 500 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
