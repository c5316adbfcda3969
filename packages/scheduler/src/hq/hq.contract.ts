import { AgentrixError } from '@agentrix/core';
import { type AgentManager, createAgentrix } from '@agentrix/runtime';
import type { Database } from '@agentrix/store';
import { MockLLM, type MockRequest } from '@agentrix/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { JobQueue } from '../job-queue.js';
import { createHq, type Hq, type HqEvent, type HqReport, parsePlan } from './hq.js';

/**
 * The HQ loop's behaviour, run on PGlite (hq.test.ts) and on a Postgres server (hq.int.test.ts).
 * `getDatabase` returns a database on which `schedulerMigrations` are applied.
 */
export function hqContract(label: string, getDatabase: () => Database): void {
  const lastUser = (request: MockRequest) =>
    String([...request.messages].reverse().find((message) => message.role === 'user')?.content ?? '');

  const plan = (...titles: string[]) =>
    JSON.stringify({ tasks: titles.map((title) => ({ title, description: `Do: ${title}`, role: 'worker' })) });

  let open: { hq: Hq; agentrix: AgentManager }[] = [];
  afterEach(async () => {
    for (const { hq, agentrix } of open) {
      await hq.close();
      await agentrix.close();
    }
    open = [];
  });

  async function setup(
    name: string,
    options: { planner?: MockLLM; gateway?: Parameters<typeof createHq>[0]['gateway']; reportCron?: string } = {},
  ) {
    const planner = options.planner ?? new MockLLM({ fallback: () => ({ text: plan('research', 'write') }) });
    const worker = new MockLLM({ fallback: (request) => ({ text: `finished ${lastUser(request).split('\n')[0]}` }) });
    const agentrix = await createAgentrix({ models: { default: worker, planner } });
    await agentrix.create({ id: 'architect', role: 'planner', model: 'planner' });
    await agentrix.create({ id: 'worker-1', role: 'worker' });
    await agentrix.create({ id: 'worker-2', role: 'worker' });
    const queue = await JobQueue.open({ database: getDatabase(), queue: `hq-${name}` });
    const events: HqEvent[] = [];
    const reports: HqReport[] = [];
    const hq = await createHq({
      agentrix,
      queue,
      planner: 'architect',
      hqId: `hq-${name}`,
      reportCron: options.reportCron ?? false,
      pollIntervalMs: 20,
      taskTimeoutMs: 5_000,
      onEvent: (event) => events.push(event),
      onReport: (report) => reports.push(report),
      ...(options.gateway ? { gateway: options.gateway } : {}),
    });
    open.push({ hq, agentrix });
    return { hq, agentrix, planner, worker, events, reports, queue };
  }

  describe(`HQ loop: ${label}`, () => {
    it('goal -> plan -> tasks on the queue -> workers -> done -> report with spend per agent', async () => {
      const gateway = {
        report: async () => ({
          total: { costUsd: 0.03, calls: 3 },
          byAgent: { architect: { costUsd: 0.02, calls: 1 }, 'worker-1': { costUsd: 0.01, calls: 2 } },
        }),
      };
      const { hq, events, planner } = await setup('flow', { gateway });
      const goal = await hq.addGoal({ text: 'Launch the blog', priority: 5, deadline: Date.now() + 3_600_000 });
      const line = await hq.waitForGoal(goal.id, { timeoutMs: 20_000 });
      expect(line).toMatchObject({ status: 'done', tasks: { done: 2, failed: 0, inProgress: 0 }, priority: 5 });
      expect(lastUser(planner.requests[0]!)).toContain('Goal: Launch the blog');
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
      expect(report.spend?.byAgent.architect).toEqual({ costUsd: 0.02, calls: 1 });
      expect(report.spend?.totalUsd).toBe(0.03);

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
      await new Promise((resolve) => setTimeout(resolve, 150));
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
      const { hq, reports } = await setup('tick', { reportCron: '* * * * * *' });
      const goal = await hq.addGoal({ text: 'Tick goal' });
      await hq.waitForGoal(goal.id, { timeoutMs: 20_000 });
      const started = Date.now();
      while (reports.length === 0 && Date.now() - started < 5_000)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(reports.length).toBeGreaterThan(0);
      expect(reports[0]!.goals.map((line) => line.id)).toEqual([goal.id]);
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
