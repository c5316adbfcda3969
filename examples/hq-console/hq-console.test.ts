import { createServer } from '@agentrix/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHqConsole, type HqConsole } from './hq-console.js';

// The README's curl commands, sent with fetch to the server over a real socket.
let setup: HqConsole;
let server: ReturnType<typeof createServer>;
let url: string;

beforeAll(async () => {
  setup = await createHqConsole();
  server = createServer({ agentrix: setup.agentrix, hq: setup.hq });
  ({ url } = await server.listen({ port: 0 }));
}, 60_000); // PGlite and migrations: seconds on a loaded machine
afterAll(async () => {
  await server?.close();
  await setup?.close();
});

async function curl(method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, json: (await response.json()) as any };
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the HQ over HTTP (examples/hq-console)', () => {
  it('strategic goal -> plan -> tasks -> an approval over the API -> done -> tick report with spend', async () => {
    const created = await curl('POST', '/api/hq/strategic-goal', {
      goal: 'Ship version 1.2 of the documentation site',
      priority: 5,
      id: 'docs-1.2',
    });
    expect(created.status).toBe(201);
    expect(created.json.goal).toMatchObject({ id: 'docs-1.2', priority: 5 });

    const approvals = await until(
      () => curl('GET', '/api/approvals'),
      (answer) => answer.json.approvals.length > 0,
    );
    expect(approvals.json.approvals[0]).toMatchObject({
      agentId: 'release-manager',
      skill: 'publish_release',
      input: { version: '1.2.0' },
    });
    const approved = await curl('POST', `/api/approvals/${approvals.json.approvals[0].id}/approve`, { by: 'owner' });
    expect(approved.json.outcome).toBe('approved');

    const goal = await until(
      () => curl('GET', '/api/hq/goals/docs-1.2'),
      (answer) => answer.json.goal.status === 'done',
    );
    expect(goal.json.goal.tasks).toEqual({ done: 3, failed: 0, inProgress: 0 });
    expect(goal.json.tasks.map((task: { title: string; status: string }) => [task.title, task.status])).toEqual([
      ['Write the changelog', 'done'],
      ['Check every link', 'done'],
      ['Publish 1.2.0', 'done'],
    ]);
    expect(goal.json.tasks[2]).toMatchObject({
      agentId: 'release-manager',
      result: expect.stringContaining('Published 1.2.0'),
    });

    const tick = await curl('POST', '/api/hq/tick');
    expect(tick.json.report.tasks).toEqual({ done: 3, failed: 0, inProgress: 0 });
    expect(tick.json.report.spend.totalUsd).toBeGreaterThan(0);
    expect(Object.keys(tick.json.report.spend.byAgent)).toContain('architect');
    expect((await curl('GET', '/api/hq/reports')).json.reports).toHaveLength(1);
    expect((await curl('GET', '/api/hq/goals')).json.goals).toHaveLength(1);
    expect((await curl('GET', '/api/gateway/budgets')).json.budgets[0]).toMatchObject({ budget: 'team', limit: 20 });
  }, 60_000);

  it('budget, pause and resume, as the seed drives them', async () => {
    // An agent's HQ budget is its own gateway budget: the HQ and the gateway show the same cap.
    const budget = await curl('POST', '/api/hq/budget', { agentId: 'worker-1', usdPerDay: 1.5 });
    expect(budget.json.agentBudgets).toEqual({ architect: 8, 'worker-1': 1.5, 'worker-2': 2 });
    const own = await curl('GET', '/api/gateway/budgets?agentId=worker-1');
    expect(own.json.budgets.find((line: { budget: string }) => line.budget === 'worker-1')).toMatchObject({
      limit: 1.5,
    });
    // A gateway budget cannot be removed: null is refused, the cap stays.
    const removal = await curl('POST', '/api/hq/budget', { agentId: 'worker-1', usdPerDay: null });
    expect([removal.status, removal.json.error.code]).toEqual([400, 'INVALID_ARGUMENT']);
    const team = await curl('PUT', '/api/gateway/budgets/team', { usd: 50 });
    expect(team.json.budgets[0].limit).toBe(50);

    expect((await curl('POST', '/api/hq/pause')).json).toEqual({ paused: true });
    const paused = await curl('GET', '/api/agents');
    expect(paused.json.agents.map((agent: { state: string }) => agent.state)).toEqual([
      'paused',
      'paused',
      'paused',
      'paused',
    ]);
    expect((await curl('GET', '/api/hq/report')).json.report.paused).toBe(true);
    expect((await curl('POST', '/api/hq/resume')).json).toEqual({ paused: false });
    const resumed = await curl('GET', '/api/agents');
    expect(resumed.json.agents.map((agent: { state: string }) => agent.state)).toEqual([
      'idle',
      'idle',
      'idle',
      'idle',
    ]);
  }, 30_000);

  it('bad input: a typed JSON error and no change', async () => {
    const before = (await curl('GET', '/api/hq/report')).json.report;
    for (const [method, path, body, status, code] of [
      [
        'POST',
        '/api/hq/strategic-goal',
        { goal: 'Too late', deadline: '2020-01-01T00:00:00Z' },
        400,
        'INVALID_ARGUMENT',
      ],
      ['POST', '/api/hq/strategic-goal', { priority: 5 }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/api/hq/strategic-goal', { goal: 'Again', id: 'docs-1.2' }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/api/hq/budget', { agentId: 'ghost', usdPerDay: 1 }, 404, 'AGENT_NOT_FOUND'],
      ['POST', '/api/hq/budget', { agentId: 'worker-1', usdPerDay: -1 }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/api/hq/budget', { agentId: 'worker-1', usdPerDay: null }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/api/hq/budget', { agentId: 'release-manager', usdPerDay: 1 }, 404, 'NOT_FOUND'],
      ['GET', '/api/hq/goals/nope', undefined, 404, 'NOT_FOUND'],
    ] as const) {
      const answer = await curl(method, path, body);
      expect([path, answer.status, answer.json.error.code]).toEqual([path, status, code]);
    }
    const after = (await curl('GET', '/api/hq/report')).json.report;
    expect(after.goals).toEqual(before.goals);
    expect(after.agentBudgets).toEqual(before.agentBudgets);
  });
});
