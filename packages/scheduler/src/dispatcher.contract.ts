// Run on PGlite (dispatcher.test.ts) and Postgres (dispatcher.int.test.ts).
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Database } from '@agentrix/store';
import { FakeClock } from '@agentrix/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { agentManagerRunner, Dispatcher, type RunAgent } from './dispatcher.js';
import { HttpJobSource } from './http-job-source.js';
import { AGENT_PROFILES_TABLE, DISPATCH_JOBS_TABLE, DISTRIBUTIONS_TABLE } from './migrations.js';
import { rankAgents } from './ranking.js';
import { schedulerKysely } from './scheduler-tables.js';

const delay = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

export function dispatcherContract(name: string, getDatabase: () => Database): void {
  beforeEach(async () => {
    for (const table of [DISTRIBUTIONS_TABLE, DISPATCH_JOBS_TABLE, AGENT_PROFILES_TABLE] as const) {
      await schedulerKysely(getDatabase()).deleteFrom(table).execute();
    }
  });
  describe(`Dispatcher on ${name}`, () => {
    it('three agents, one fails, one slow: the fastest success wins, the rest are cancelled, stats updated', async () => {
      const aborted: string[] = [];
      let failed!: () => void;
      const failingDone = new Promise<void>((resolve) => {
        failed = resolve;
      });
      let slowStarted!: () => void;
      const slowRunning = new Promise<void>((resolve) => {
        slowStarted = resolve;
      });
      const runAgent: RunAgent = async (agentId, job, signal) => {
        signal.addEventListener('abort', () => aborted.push(agentId), { once: true });
        if (agentId === 'failing') {
          // a macrotask later the dispatcher has taken the failure (in microtasks): then fast answers
          setTimeout(failed, 0);
          throw new Error('cannot do it');
        }
        if (agentId === 'slow') {
          slowStarted();
          await delay(10_000, signal);
          return 'slow answer';
        }
        await Promise.all([failingDone, slowRunning]); // fast wins once failing failed and slow runs
        clock.set(clock.now() + 42);
        return `fast answer to ${String(job.payload)}`;
      };
      const clock = new FakeClock(1_000_000);
      const dispatcher = new Dispatcher({ database: getDatabase(), runAgent, clock });
      for (const agentId of ['failing', 'slow', 'fast']) {
        await dispatcher.upsertProfile({ agentId, tags: ['ts'], categories: ['code'], skillLevel: 3 });
      }
      await dispatcher.upsertProfile({ agentId: 'unqualified', tags: ['ts'], categories: ['code'], skillLevel: 1 });
      await dispatcher.submit({
        id: 'job-1',
        payload: 'the question',
        conditions: { tags: ['ts'], category: 'code', minSkillLevel: 2 },
      });

      const outcome = await dispatcher.dispatch('job-1');
      expect(outcome.job).toMatchObject({ status: 'completed', winner: 'fast', result: 'fast answer to the question' });
      const statuses = Object.fromEntries(outcome.distributions.map((row) => [row.agentId, row.status]));
      expect(statuses).toEqual({ failing: 'failed', slow: 'cancelled', fast: 'completed' });
      expect(aborted).toContain('slow');
      const fast = await dispatcher.profile('fast');
      const failing = await dispatcher.profile('failing');
      const slow = await dispatcher.profile('slow');
      expect(fast).toMatchObject({ successes: 1, failures: 0, successRate: 1 });
      expect(fast!.reputation).toBeCloseTo(0.55);
      expect(fast!.averageMs).toBe(42); // the one run's time on the dispatcher's clock
      expect(failing).toMatchObject({ successes: 0, failures: 1, successRate: 0 });
      expect(failing!.reputation).toBeCloseTo(0.45);
      expect(slow).toMatchObject({ successes: 0, failures: 0 });
      // a second dispatch of the same job does nothing
      expect((await dispatcher.dispatch('job-1')).job.status).toBe('completed');
    });

    it('ranks by weights and takes the top N; no match leaves the job open', async () => {
      const ran: string[] = [];
      const dispatcher = new Dispatcher({
        database: getDatabase(),
        topN: 2,
        runAgent: async (agentId) => {
          ran.push(agentId);
          return agentId;
        },
      });
      await dispatcher.upsertProfile({ agentId: 'low', reputation: 0.1 });
      await dispatcher.upsertProfile({ agentId: 'mid', reputation: 0.5 });
      await dispatcher.upsertProfile({ agentId: 'high', reputation: 0.9 });
      const ranked = rankAgents(await dispatcher.profiles(), { tags: [], minSkillLevel: 0 }, { limit: 2 });
      expect(ranked.map((entry) => entry.profile.agentId)).toEqual(['high', 'mid']);
      await dispatcher.submit({ id: 'j', payload: 1 });
      const outcome = await dispatcher.dispatch('j');
      expect(outcome.distributions.map((row) => [row.agentId, row.rank])).toEqual([
        ['high', 1],
        ['mid', 2],
      ]);
      expect(ran.sort()).toEqual(['high', 'mid']);
      await dispatcher.submit({ id: 'nobody', conditions: { tags: ['rust'] } });
      expect((await dispatcher.dispatch('nobody')).job.status).toBe('open');
    });

    it('best mode lets a scorer pick; timeouts expire the job; past expiresAt expires it', async () => {
      const best = new Dispatcher({
        database: getDatabase(),
        mode: 'best',
        scorer: (results) =>
          results.reduce((a, b) => (String(a.result).length >= String(b.result).length ? a : b)).agentId,
        runAgent: async (agentId) => (agentId === 'a' ? 'short' : 'a much longer answer'),
      });
      await best.upsertProfile({ agentId: 'a' });
      await best.upsertProfile({ agentId: 'b' });
      await best.submit({ id: 'best' });
      expect((await best.dispatch('best')).job).toMatchObject({ status: 'completed', winner: 'b' });

      const hanging = new Dispatcher({
        database: getDatabase(),
        timeoutMs: 20,
        runAgent: (_agentId, _job, signal) => delay(10_000, signal).then(() => 'late'),
      });
      await hanging.submit({ id: 'hang' });
      const outcome = await hanging.dispatch('hang');
      expect(outcome.job.status).toBe('expired');
      expect(outcome.distributions.every((row) => row.status === 'timeout')).toBe(true);

      await hanging.submit({ id: 'old', expiresAt: 1 });
      expect((await hanging.dispatch('old')).job.status).toBe('expired');
    });

    it('cancel aborts the running agents and the job ends cancelled', async () => {
      let started!: () => void;
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      const dispatcher = new Dispatcher({
        database: getDatabase(),
        runAgent: (_agentId, _job, signal) => {
          started();
          return delay(10_000, signal).then(() => 'never');
        },
      });
      await dispatcher.upsertProfile({ agentId: 'a' });
      await dispatcher.submit({ id: 'c' });
      const dispatched = dispatcher.dispatch('c');
      await running; // the agent runs: the job is in progress
      await dispatcher.cancel('c');
      const outcome = await dispatched;
      expect(outcome.job.status).toBe('cancelled');
      expect(outcome.distributions[0]?.status).toBe('cancelled');
    });

    it('runs agents through an AgentManager-like ask', async () => {
      const calls: unknown[] = [];
      const runAgent = agentManagerRunner({
        ask: async (agentId, content, options) => {
          calls.push({ agentId, content, data: options?.data });
          return { content: `${agentId} says hi` };
        },
      });
      const dispatcher = new Dispatcher({ database: getDatabase(), runAgent });
      await dispatcher.upsertProfile({ agentId: 'helper' });
      await dispatcher.submit({ id: 'ask', payload: { question: 'hi?' } });
      expect((await dispatcher.dispatch('ask')).job.result).toBe('helper says hi');
      expect(calls).toEqual([
        { agentId: 'helper', content: '{"question":"hi?"}', data: { jobId: 'ask', payload: { question: 'hi?' } } },
      ]);
    });

    it('pulls jobs from a remote HTTP source', async () => {
      const server = createServer((request, response) => {
        if (request.url !== '/jobs') {
          response.writeHead(404).end();
          return;
        }
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ jobs: [{ id: 'remote-1', payload: 'x', conditions: { tags: ['ts'] } }] }));
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;
      try {
        const dispatcher = new Dispatcher({ database: getDatabase(), runAgent: async () => 'done' });
        await dispatcher.upsertProfile({ agentId: 'a', tags: ['ts'] });
        const outcomes = await dispatcher.pull(new HttpJobSource({ url: `http://127.0.0.1:${port}/jobs` }));
        expect(outcomes.map((outcome) => [outcome.job.id, outcome.job.status])).toEqual([['remote-1', 'completed']]);
        // fetched again: already stored, not dispatched twice
        expect(await dispatcher.pull(new HttpJobSource({ url: `http://127.0.0.1:${port}/jobs` }))).toEqual([]);
        await expect(new HttpJobSource({ url: `http://127.0.0.1:${port}/missing` }).fetch()).rejects.toThrow(
          /HTTP 404/,
        );
        expect(() => new HttpJobSource({ url: 'not a url' })).toThrow(/absolute url/);
      } finally {
        server.close();
      }
    });
  });
}
