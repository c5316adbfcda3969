import { AgentrixError } from '@agentrix/core';
import { type Agentrix, createAgentrix } from '@agentrix/runtime';
import { JobQueue } from '@agentrix/scheduler';
import { defineSkill } from '@agentrix/skills';
import { MockLLM } from '@agentrix/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AgentrixServer, createServer } from './create-server.js';
import { call } from './test-support.js';

// One PGlite for the file: the store, its bus, budgets and ledger, and a job queue.
const MODELS = {
  'mock-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 200 },
};

let agentrix: Agentrix;
let server: AgentrixServer;
let queue: JobQueue;

const publish = defineSkill({
  name: 'publish',
  description: 'Publish a release',
  input: z.object({ version: z.string() }),
  requiresApproval: true,
  execute: ({ version }) => ({ published: version }),
});

beforeAll(async () => {
  const provider = new MockLLM({
    fallback: (request) => {
      const last = request.messages.at(-1);
      if (String(last?.content) === 'release 1.0')
        return { toolCalls: [{ name: 'publish', arguments: { version: '1.0' } }] };
      if (last?.role === 'tool') return { text: `done: ${String(last.content)}` };
      if (String(last?.content) === 'poison') return { error: new AgentrixError('PROVIDER_BAD_REQUEST', 'bad') };
      return { text: 'ok' };
    },
  });
  agentrix = await createAgentrix({
    store: { url: 'memory://', vector: 'off', maxDeliveries: 1 },
    gateway: {
      provider,
      models: MODELS,
      tiers: { small: 'mock-small' },
      budgets: [
        { id: 'team', scope: 'global', period: 'day', usd: 10 },
        { id: 'per-agent', scope: { agentId: '*' }, period: 'day', usd: 5 },
      ],
    },
    skills: [publish],
  });
  await agentrix.create({ id: 'worker', tools: ['publish'], modelRetry: { attempts: 1 } });
  queue = await JobQueue.open({ database: agentrix.store!.database, queue: 'ops', backoff: { baseDelayMs: 0 } });
  server = createServer({ agentrix, queues: [queue] });
}, 60_000); // PGlite and migrations: seconds on a loaded machine
afterAll(async () => {
  await server?.close();
  await agentrix?.close();
});

describe('gateway', () => {
  it('shows spend per budget, the ledger (filtered, paged, newest first), and changes a budget at run time', async () => {
    for (const text of ['one', 'two', 'three']) await agentrix.ask('worker', text);
    const budgets = await call(server, 'GET', '/api/gateway/budgets?agentId=worker');
    expect(budgets.json.budgets.map((line: { budget: string }) => line.budget)).toEqual(['team', 'per-agent[worker]']);
    expect(budgets.json.budgets[0].spent).toBeGreaterThan(0);
    const agents = await call(server, 'GET', '/api/agents');
    expect(agents.json.agents[0].budgets).toHaveLength(2);

    const page = await call(server, 'GET', '/api/gateway/ledger?agentId=worker&limit=2');
    expect(page.json).toMatchObject({ total: 3, limit: 2, offset: 0 });
    expect(page.json.records).toHaveLength(2);
    const rest = await call(server, 'GET', '/api/gateway/ledger?agentId=worker&limit=2&offset=2');
    expect(rest.json.records).toHaveLength(1);
    const all = await agentrix.gateway!.ledger.query({ agentId: 'worker' });
    expect([...page.json.records, ...rest.json.records].map((record: { id: string }) => record.id)).toEqual(
      all.map((record) => record.id).reverse(),
    );
    expect((await call(server, 'GET', '/api/gateway/ledger?agentId=nobody')).json.total).toBe(0);
    const report = await call(server, 'GET', '/api/gateway/report');
    expect(report.json.byAgent.worker.calls).toBe(3);
    expect((await call(server, 'GET', '/api/gateway/degradation')).json).toEqual({ recent: [], lowBudgets: [] });

    const changed = await call(server, 'PUT', '/api/gateway/budgets/team', { body: { usd: 20 } });
    expect(changed.json.budgets).toEqual([expect.objectContaining({ budget: 'team', limit: 20 })]);
    const unknown = await call(server, 'PUT', '/api/gateway/budgets/nope', { body: { usd: 1 } });
    expect([unknown.status, unknown.json.error.code]).toEqual([404, 'NOT_FOUND']);
    const bad = await call(server, 'PUT', '/api/gateway/budgets/team', { body: { usd: -1 } });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
    expect((await agentrix.gateway!.budgetStatus())[0]!.limit).toBe(20);
    expect((await call(server, 'GET', '/api/gateway/ledger?fromDay=yesterday')).status).toBe(400);
  });
});

describe('approvals', () => {
  it('lists a pending approval, approves it; an unknown or decided one is NOT_FOUND', async () => {
    const asking = agentrix.ask('worker', 'release 1.0');
    let pending: { id: string; skill: string }[] = [];
    for (let tries = 0; tries < 100 && pending.length === 0; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      pending = (await call(server, 'GET', '/api/approvals')).json.approvals;
    }
    expect(pending).toEqual([
      { id: expect.any(String), agentId: 'worker', skill: 'publish', input: { version: '1.0' } },
    ]);
    const unknown = await call(server, 'POST', '/api/approvals/nope/approve', { body: {} });
    expect([unknown.status, unknown.json.error.code]).toEqual([404, 'NOT_FOUND']);
    expect((await call(server, 'GET', '/api/approvals')).json.approvals).toHaveLength(1);
    const approved = await call(server, 'POST', `/api/approvals/${pending[0]!.id}/approve`, { body: { by: 'ada' } });
    expect(approved.json).toEqual({ id: pending[0]!.id, outcome: 'approved' });
    expect((await asking).content).toBe('done: {"published":"1.0"}');
    const twice = await call(server, 'POST', `/api/approvals/${pending[0]!.id}/reject`, { body: {} });
    expect(twice.status).toBe(404);
  });
});

describe('jobs and the bus', () => {
  it('queue depths, jobs by state, redrive and discard of dead jobs; a gone job is NOT_FOUND', async () => {
    const dead = await queue.add({ type: 'mail', payload: { to: 'a' }, maxAttempts: 1 });
    const other = await queue.add({ type: 'mail', payload: { to: 'b' }, maxAttempts: 1 });
    for (const job of await queue.claim('w', 2)) await queue.fail(job, new Error('smtp down'));
    await queue.add({ type: 'mail', payload: { to: 'c' } });
    const queues = await call(server, 'GET', '/api/queues');
    expect(queues.json.queues).toEqual([
      { queue: 'ops', counts: { pending: 1, running: 0, done: 0, failed: 0, dead: 2 } },
    ]);
    const deadJobs = await call(server, 'GET', '/api/queues/ops/jobs?status=dead');
    expect(deadJobs.json.jobs.map((job: { id: string }) => job.id).sort()).toEqual([dead.id, other.id].sort());
    expect(deadJobs.json.jobs[0].lastError).toContain('smtp down');

    const redriven = await call(server, 'POST', `/api/queues/ops/jobs/${dead.id}/redrive`);
    expect(redriven.json.job).toMatchObject({ id: dead.id, status: 'pending', attempts: 0 });
    const discarded = await call(server, 'DELETE', `/api/queues/ops/jobs/${other.id}`);
    expect(discarded.json).toEqual({ discarded: true });
    const counts = await queue.counts();
    for (const [method, path] of [
      ['POST', `/api/queues/ops/jobs/${other.id}/redrive`],
      ['POST', `/api/queues/ops/jobs/${dead.id}/redrive`],
      ['DELETE', `/api/queues/ops/jobs/${other.id}`],
      ['GET', '/api/queues/nope/jobs'],
    ] as const) {
      const answer = await call(server, method, path);
      expect([path, answer.status, answer.json.error.code]).toEqual([path, 404, 'NOT_FOUND']);
    }
    expect(await queue.counts()).toEqual(counts);
    expect((await call(server, 'GET', '/api/queues/ops/jobs?status=lost')).status).toBe(400);
  });

  it('inbox depths, dead letters of an inbox, and their redrive', async () => {
    await expect(agentrix.ask('worker', 'poison')).rejects.toMatchObject({ code: 'PROVIDER_BAD_REQUEST' });
    const inboxes = await call(server, 'GET', '/api/bus/inboxes');
    expect(inboxes.json.inboxes).toEqual([{ inbox: 'worker', unread: 0, inFlight: 0, deadLetters: 1 }]);
    const letters = await call(server, 'GET', '/api/bus/inboxes/worker/dead-letters');
    expect(letters.json.deadLetters).toEqual([
      expect.objectContaining({ inbox: 'worker', envelope: expect.objectContaining({ content: 'poison' }) }),
    ]);
    const agent = (await call(server, 'GET', '/api/agents/worker')).json.agent;
    expect(agent.lastError.code).toBe('PROVIDER_BAD_REQUEST');
    const redriven = await call(server, 'POST', '/api/bus/inboxes/worker/dead-letters/redrive', { body: {} });
    expect(redriven.json).toEqual({ redriven: 1 });
    await agentrix.waitForIdle();
    expect((await call(server, 'POST', '/api/bus/inboxes/worker/dead-letters/redrive')).json).toEqual({ redriven: 1 });
  });

  it('redrives one dead letter and discards another by message id; a gone message is NOT_FOUND', async () => {
    // An inbox no agent reads, so the redriven message stays unread where the test can see it.
    const { bus } = agentrix;
    const sent = [];
    for (const content of ['keep', 'drop', 'other'])
      sent.push(await bus.send({ from: 'host', to: 'parking', content }));
    for (const delivery of await bus.read('parking', { blockMs: 0 })) await bus.nack('parking', delivery.deliveryId);
    const [keep, drop, other] = sent.map((envelope) => envelope.id) as [string, string, string];
    const dead = async () =>
      (await call(server, 'GET', '/api/bus/inboxes/parking/dead-letters')).json.deadLetters.map(
        (letter: { envelope: { id: string } }) => letter.envelope.id,
      );
    expect(await dead()).toEqual([keep, drop, other]);

    const redriven = await call(server, 'POST', '/api/bus/inboxes/parking/dead-letters/redrive', {
      body: { ids: [keep] },
    });
    expect([redriven.status, redriven.json]).toEqual([200, { redriven: 1 }]);
    const discarded = await call(server, 'POST', '/api/bus/inboxes/parking/dead-letters/discard', {
      body: { ids: [drop] },
    });
    expect([discarded.status, discarded.json]).toEqual([200, { discarded: 1 }]);
    expect(await dead()).toEqual([other]);
    expect(await bus.stats('parking')).toEqual({ unread: 1, inFlight: 0, deadLetters: 1 });

    for (const [path, ids] of [
      ['/api/bus/inboxes/parking/dead-letters/redrive', [keep]],
      ['/api/bus/inboxes/parking/dead-letters/discard', [drop, 'never-sent']],
      ['/api/bus/inboxes/nobody/dead-letters/redrive', [other]],
    ] as const) {
      const answer = await call(server, 'POST', path, { body: { ids } });
      expect([answer.status, answer.json.error.code]).toEqual([404, 'NOT_FOUND']);
      expect(answer.json.error.message).toContain('No dead letter in inbox');
    }
    for (const body of [{ ids: [] }, { ids: [''] }, { ids: 'x' }, {}]) {
      const answer = await call(server, 'POST', '/api/bus/inboxes/parking/dead-letters/discard', { body });
      expect([answer.status, answer.json.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
    }
    expect(await dead()).toEqual([other]);
    expect(await bus.stats('parking')).toEqual({ unread: 1, inFlight: 0, deadLetters: 1 });
    await bus.deleteInbox('parking');
  });

  it('skills and MCP: the registry and recent tool failures', async () => {
    const skills = await call(server, 'GET', '/api/skills');
    expect(skills.json.skills).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'publish', requiresApproval: true })]),
    );
    expect((await call(server, 'GET', '/api/mcp')).json).toEqual({ servers: [] });
    const ready = await call(server, 'GET', '/readyz');
    expect(ready.json).toMatchObject({
      ready: true,
      health: { status: 'ok', store: { status: 'ok' }, bus: { status: 'ok' } },
    });
  });
});
