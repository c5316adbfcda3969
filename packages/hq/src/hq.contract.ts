import { AgentrixError } from '@agentrix/core';
import { createGateway, type Gateway } from '@agentrix/gateway';
import { type AgentManager, createAgentrix } from '@agentrix/runtime';
import { JobQueue } from '@agentrix/scheduler';
import type { Database } from '@agentrix/store';
import { FakeClock, MockLLM, type MockRequest } from '@agentrix/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createHq, type Hq } from './hq.js';
import type { HqEvent, HqReport } from './hq-report.js';
import { parsePlan } from './planner.js';

/**
 * The HQ loop's behaviour, run on PGlite (hq.test.ts) and on a Postgres server (hq.int.test.ts).
 * `getDatabase` returns a database on which `schedulerMigrations` are applied.
 */
export function hqContract(label: string, getDatabase: () => Database): void {
  const lastUser = (request: MockRequest) =>
    String([...request.messages].reverse().find((message) => message.role === 'user')?.content ?? '');

  const plan = (...titles: string[]) =>
    JSON.stringify({ tasks: titles.map((title) => ({ title, description: `Do: ${title}`, role: 'worker' })) });

  let open: { hq: Hq; agentrix: AgentManager; gateway?: Gateway | undefined }[] = [];
  afterEach(async () => {
    for (const { hq, agentrix, gateway } of open) {
      await hq.close();
      await agentrix.close();
      await gateway?.close();
    }
    open = [];
  });

  /** A real gateway over one mock provider that plans for the architect and works for the rest. */
  function gatewayFor(budgets: Parameters<typeof createGateway>[0]['budgets']): Gateway {
    const provider = new MockLLM({
      fallback: (request) =>
        request.messages.some((message) => message.role === 'system' && String(message.content).includes('You plan.'))
          ? { text: plan('research', 'write') }
          : { text: `finished ${lastUser(request).split('\n')[0]}` },
    });
    const models = {
      'mock-model': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 500 },
    };
    return createGateway({ provider, models, tiers: { large: 'mock-model' }, ...(budgets ? { budgets } : {}) });
  }

  async function setup(
    name: string,
    options: { planner?: MockLLM; gateway?: Gateway; reportCron?: string; clock?: FakeClock } = {},
  ) {
    const planner = options.planner ?? new MockLLM({ fallback: () => ({ text: plan('research', 'write') }) });
    const worker = new MockLLM({ fallback: (request) => ({ text: `finished ${lastUser(request).split('\n')[0]}` }) });
    const agentrix = options.gateway
      ? await createAgentrix({ gateway: options.gateway })
      : await createAgentrix({ models: { default: worker, planner } });
    await agentrix.create({
      id: 'architect',
      role: 'planner',
      instructions: 'You plan.',
      ...(options.gateway ? {} : { model: 'planner' }),
    });
    await agentrix.create({ id: 'worker-1', role: 'worker' });
    await agentrix.create({ id: 'worker-2', role: 'worker' });
    const unique = `hq-${name}-${Math.random().toString(36).slice(2)}`;
    const queue = await JobQueue.open({
      database: getDatabase(),
      queue: unique,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    const events: HqEvent[] = [];
    const reports: HqReport[] = [];
    const hq = await createHq({
      agentrix,
      queue,
      planner: 'architect',
      hqId: unique,
      reportCron: options.reportCron ?? false,
      pollIntervalMs: 20,
      taskTimeoutMs: 5_000,
      onEvent: (event) => events.push(event),
      onReport: (report) => reports.push(report),
      ...(options.gateway ? { gateway: options.gateway } : {}),
    });
    open.push({ hq, agentrix, gateway: options.gateway });
    return { hq, agentrix, planner, worker, events, reports, queue };
  }

  describe(`HQ loop: ${label}`, () => {
    it('goal -> plan -> tasks on the queue -> workers -> done -> report with spend per agent', async () => {
      const gateway = gatewayFor([{ id: 'team', scope: 'global', period: 'day', usd: 10 }]);
      const { hq, events } = await setup('flow', { gateway });
      const goal = await hq.addGoal({ text: 'Launch the blog', priority: 5, deadline: Date.now() + 3_600_000 });
      const line = await hq.waitForGoal(goal.id, { timeoutMs: 20_000 });
      expect(line).toMatchObject({ status: 'done', tasks: { done: 2, failed: 0, inProgress: 0 }, priority: 5 });
      expect(
        hq
          .results(goal.id)
          .map((result) => result.result)
          .sort(),
      ).toEqual(['finished research', 'finished write']);
      const assigned = new Set(hq.results(goal.id).map((result) => result.agentId));
      expect([...assigned].every((agentId) => agentId === 'worker-1' || agentId === 'worker-2')).toBe(true);
      expect(events.map((event) => event.type)).toContain('goal.planned');
      expect(events.filter((event) => event.type === 'task.done')).toHaveLength(2);

      const report = await hq.report();
      expect(report.tasks).toEqual({ done: 2, failed: 0, inProgress: 0 });
      expect(report.goals).toHaveLength(1);
      const ledger = await gateway.report();
      expect(report.spend?.byAgent.architect).toEqual({
        costUsd: ledger.byAgent.architect!.costUsd,
        calls: 1,
      });
      expect(report.spend?.byAgent.architect?.costUsd).toBeGreaterThan(0);
      expect(report.spend?.totalUsd).toBe(ledger.total.costUsd);
      expect(report.budgets?.map((budget) => [budget.budget, budget.limit, budget.spent])).toEqual([
        ['team', 10, ledger.total.costUsd],
      ]);
      expect(report.agentBudgets).toEqual({});

      const tasks = await hq.tasks(goal.id);
      expect(tasks.map((task) => [task.title, task.status, task.result])).toEqual([
        ['research', 'done', 'finished research'],
        ['write', 'done', 'finished write'],
      ]);
      expect(await hq.tasks('no-such-goal')).toEqual([]);
      expect(hq.reports()).toEqual([]);
      const ticked = await hq.tick();
      expect(ticked.tasks).toEqual({ done: 2, failed: 0, inProgress: 0 });
      expect(hq.reports()).toEqual([ticked]);
      expect(events.at(-1)).toEqual({ type: 'report', report: ticked });
    });

    it('asks the planner again once after a bad answer, then fails the goal after a second one', async () => {
      const planner = new MockLLM({
        script: [
          { text: 'Sure! I will do it.' },
          { text: plan('only task') },
          { text: '{"tasks": []}' },
          { text: 'no' },
        ],
      });
      const { hq } = await setup('retry', { planner });
      const good = await hq.addGoal({ text: 'Goal one' });
      expect(await hq.waitForGoal(good.id, { timeoutMs: 20_000 })).toMatchObject({
        status: 'done',
        tasks: { done: 1 },
      });
      expect(lastUser(planner.requests[1]!)).toContain('not a valid plan');
      const bad = await hq.addGoal({ text: 'Goal two' });
      const failed = await hq.waitForGoal(bad.id, { timeoutMs: 20_000 });
      expect(failed.status).toBe('failed');
      expect(failed.error).toContain('invalid twice');
    });

    it('rejects a goal whose deadline is in the past with INVALID_ARGUMENT quoting it', async () => {
      const { hq } = await setup('deadline');
      const deadline = Date.parse('2020-01-02T03:04:05.000Z');
      const error = await hq.addGoal({ text: 'Too late', deadline }).catch((caught: unknown) => caught);
      expect(AgentrixError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect((error as Error).message).toContain('2020-01-02T03:04:05.000Z');
      expect((error as Error).message).toContain('Too late');
      await expect(hq.addGoal({ text: '   ' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect((await hq.report()).goals).toEqual([]);
    });

    it('pause stops the agents, the worker and the schedules; resume picks the work up again', async () => {
      const { hq, agentrix, planner } = await setup('pause');
      await hq.pause();
      expect(hq.paused).toBe(true);
      expect(agentrix.list().map((agent) => agent.state)).toEqual(['paused', 'paused', 'paused']);
      expect((await hq.scheduler.list()).every((schedule) => schedule.paused)).toBe(true);
      const goal = await hq.addGoal({ text: 'Wait for me' });
      // No worker holds the plan job: a probe claims it at once (a running worker, woken by the
      // add, would hold it), and gives it back untouched.
      const [probe] = await hq.queue.claim('probe', 1);
      expect(probe?.id).toBe(goal.id);
      expect(await hq.queue.release([probe!])).toBe(1);
      expect(planner.requests).toHaveLength(0);
      expect((await hq.report()).goals[0]).toMatchObject({ status: 'planning' });
      expect((await hq.report()).paused).toBe(true);

      await hq.resume();
      expect(agentrix.list().map((agent) => agent.state)).toEqual(['idle', 'idle', 'idle']);
      expect(await hq.waitForGoal(goal.id, { timeoutMs: 20_000 })).toMatchObject({
        status: 'done',
        tasks: { done: 2 },
      });
    });

    it('sends the progress report on its cron tick', async () => {
      const clock = new FakeClock(Date.parse('2030-01-01T17:59:00.000Z'));
      const { hq, reports } = await setup('tick', { reportCron: '0 18 * * *', clock });
      // Only the schedules run: the goal stays planning, so nothing else touches the fake clock.
      await hq.pause();
      await hq.scheduler.resumeAll();
      const goal = await hq.addGoal({ text: 'Tick goal' });
      await clock.advance(59_000);
      await hq.scheduler.runDue();
      expect(reports).toEqual([]);
      await clock.advance(1_000);
      await hq.scheduler.runDue(); // let the firing the timer started finish
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatchObject({ generatedAt: Date.parse('2030-01-01T18:00:00.000Z'), paused: true });
      expect(reports[0]!.goals.map((line) => line.id)).toEqual([goal.id]);
      expect(hq.reports()).toEqual(reports);
    });

    it("gives tasks only to agents with room in their gateway budgets; an agent's cap is its own gateway budget", async () => {
      const gateway = gatewayFor([
        { id: 'team', scope: 'global', period: 'day', usd: 10 },
        { id: 'worker-1', scope: { agentId: 'worker-1' }, period: 'day', usd: 1 },
        { id: 'per-agent', scope: { agentId: '*' }, period: 'day', usd: 5 },
      ]);
      const { hq } = await setup('budgets', { gateway });
      expect((await hq.report()).agentBudgets).toEqual({ 'worker-1': 1 });
      await hq.setAgentBudget('worker-1', 2);
      expect((await hq.report()).agentBudgets).toEqual({ 'worker-1': 2 });
      expect(
        (await gateway.budgetStatus({ agentId: 'worker-1' })).find((line) => line.budget === 'worker-1')?.limit,
      ).toBe(2);

      const first = await hq.addGoal({ text: 'Warm up' });
      await hq.waitForGoal(first.id, { timeoutMs: 20_000 });
      // worker-1 did the first task (ties go in turn, from worker-1): its cap becomes what it spent
      const own = async () =>
        (await gateway.budgetStatus({ agentId: 'worker-1' })).find((line) => line.budget === 'worker-1')!;
      const { spent } = await own();
      expect(spent).toBeGreaterThan(0);
      await hq.setAgentBudget('worker-1', spent);
      expect((await own()).remaining).toBe(0);
      const second = await hq.addGoal({ text: 'Only worker-2 now' });
      expect(await hq.waitForGoal(second.id, { timeoutMs: 20_000 })).toMatchObject({ status: 'done' });
      expect(hq.results(second.id).map((result) => result.agentId)).toEqual(['worker-2', 'worker-2']);

      await expect(hq.setAgentBudget('worker-2', 1)).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: expect.stringContaining("scope: { agentId: 'worker-2' }"),
      });
      await expect(hq.setAgentBudget('worker-1', -1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(hq.setAgentBudget('worker-1', undefined)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });

    it('parsePlan reads fenced JSON and explains what is wrong', () => {
      expect(parsePlan('```json\n{"tasks":[{"title":"a"}]}\n```')).toEqual({
        ok: true,
        plan: { tasks: [{ title: 'a' }] },
      });
      expect(parsePlan('nothing')).toMatchObject({ ok: false, error: 'no JSON object in the answer' });
      expect(parsePlan('{"tasks":[{}]}')).toMatchObject({ ok: false });
    });
  });
}
