// The JobQueue / JobWorker behaviour every database must show (run on PGlite and Postgres).

import type { AgentrixEventName } from '@agentrix/core';
import type { Database } from '@agentrix/store';
import { capturingLogger } from '@agentrix/store/testing';
import { FakeClock } from '@agentrix/testing';
import { sql } from 'kysely';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Dispatcher } from './dispatcher.js';
import { JobQueue } from './job-queue.js';
import { JobWorker } from './job-worker.js';
import { JOBS_TABLE, schedulerMigrations } from './migrations.js';

/** The scheduler events a queue emitted, in order, as `[name, payload]`. */
function record(queue: JobQueue, names: readonly AgentrixEventName[]): Array<[string, unknown]> {
  const seen: Array<[string, unknown]> = [];
  for (const name of names) queue.events.on(name, (event: unknown) => seen.push([name, event]));
  return seen;
}

/** A database of its own, with no migrations applied, for upgrade tests. */
export type OpenFreshDatabase = () => Promise<{ database: Database; dispose(): Promise<void> }>;

export function jobQueueContract(name: string, getDatabase: () => Database, openFresh: OpenFreshDatabase): void {
  describe(`JobQueue on ${name}`, () => {
    let queueName: string;
    let clock: FakeClock;
    let queue: JobQueue;
    beforeEach(() => {
      queueName = `test-${Math.random().toString(36).slice(2)}`;
      clock = new FakeClock(1_000_000);
      queue = new JobQueue({ database: getDatabase(), queue: queueName, clock, leaseGraceMs: 0 });
    });

    it('adds, claims by priority, completes', async () => {
      await queue.add({ type: 'a', payload: { n: 1 } });
      await queue.add({ type: 'a', payload: { n: 2 }, priority: 5 });
      const jobs = await queue.claim('w1', 10);
      expect(jobs.map((job) => job.payload)).toEqual([{ n: 2 }, { n: 1 }]);
      expect(jobs[0]).toMatchObject({ status: 'running', lockedBy: 'w1', attempts: 1, timeoutMs: 300_000 });
      expect(await queue.claim('w2', 10)).toEqual([]);
      expect(await queue.complete(jobs)).toBe(2);
      expect(await queue.counts()).toMatchObject({ done: 2, pending: 0 });
    });

    it('treats a repeated idempotency key as a no-op', async () => {
      const first = await queue.add({ type: 'a', idempotencyKey: `k-${queueName}` });
      const second = await queue.add({ type: 'a', idempotencyKey: `k-${queueName}`, payload: 'other' });
      expect(first.added).toBe(true);
      expect(second).toEqual({ id: first.id, added: false });
      expect((await queue.counts()).pending).toBe(1);
    });

    it('keeps idempotency keys per queue: the same key on another queue adds a job that runs', async () => {
      const key = `k-${queueName}`;
      const other = new JobQueue({ database: getDatabase(), queue: `${queueName}-b`, clock, leaseGraceMs: 0 });
      const onA = await queue.add({ type: 'a', idempotencyKey: key });
      const onB = await other.add({ type: 'b', idempotencyKey: key });
      expect(onA.added).toBe(true);
      expect(onB.added).toBe(true);
      expect(onB.id).not.toBe(onA.id);
      // still a no-op within a queue, answering with that queue's job
      expect(await other.addMany([{ type: 'b', idempotencyKey: key }])).toEqual([{ id: onB.id, added: false }]);
      const [claimed] = await other.claim('w', 10);
      expect(claimed).toMatchObject({ id: onB.id, queue: `${queueName}-b`, type: 'b' });
    });

    it('migrates per-queue idempotency keys and lower-case dispatch statuses, keeping the rows', async () => {
      const fresh = await openFresh();
      try {
        const { database } = fresh;
        // The schema as released before keys were per queue, with rows in it.
        await database.migrate(schedulerMigrations.slice(0, 3));
        const before = new JobQueue({ database, queue: 'a', clock });
        const stored = await before.add({ type: 'old', idempotencyKey: 'shared', payload: { kept: true } });
        // There, the same key on queue b was dropped: the bug this migration removes.
        const dropped = await new JobQueue({ database, queue: 'b', clock }).add({
          type: 'old',
          idempotencyKey: 'shared',
        });
        expect(dropped.added).toBe(false);
        // Dispatch statuses as they were spelled then (upper case).
        await sql`insert into agentrix_dispatch_jobs (id, conditions, status, created_at, updated_at)
          values ('old-1', '{"tags":[],"minSkillLevel":0}', 'IN_PROGRESS', 1, 1),
                 ('old-2', '{"tags":[],"minSkillLevel":0}', 'OPEN', 2, 2)`.execute(database.kysely);
        await sql`insert into agentrix_dispatch_distributions (job_id, agent_id, rank, score, status)
          values ('old-1', 'a', 1, 0.5, 'TIMEOUT')`.execute(database.kysely);
        const result = await database.migrate(schedulerMigrations);
        expect(result.applied).toEqual([
          '0004_scheduler_jobs_idempotency_per_queue',
          '0005_scheduler_jobs_trace',
          '0006_scheduler_dispatch_status_lower_case',
        ]);
        const queueA = new JobQueue({ database, queue: 'a', clock });
        const queueB = new JobQueue({ database, queue: 'b', clock });
        expect(await queueA.get(stored.id)).toMatchObject({
          idempotencyKey: 'shared',
          payload: { kept: true },
          trace: undefined,
        });
        expect(await queueA.add({ type: 'again', idempotencyKey: 'shared' })).toEqual({ id: stored.id, added: false });
        const onB = await queueB.add({ type: 'new', idempotencyKey: 'shared' });
        expect(onB.added).toBe(true);
        expect((await queueB.claim('w', 1)).map((job) => job.id)).toEqual([onB.id]);
        const dispatcher = new Dispatcher({ database, runAgent: async () => 'unused' });
        expect((await dispatcher.job('old-1'))?.status).toBe('in-progress');
        expect((await dispatcher.distributions('old-1')).map((row) => row.status)).toEqual(['timeout']);
        // the `open` index is rebuilt: dispatchOpen finds the open job (no agent matches: it stays open)
        expect((await dispatcher.dispatchOpen()).map((outcome) => [outcome.job.id, outcome.job.status])).toEqual([
          ['old-2', 'open'],
        ]);
        // Applying the migrations again changes nothing.
        expect((await database.migrate(schedulerMigrations)).applied).toEqual([]);
      } finally {
        await fresh.dispose();
      }
    }, 30_000); // a fresh database of its own: seconds on a loaded machine

    it('stores the trace a job was added in (given, else the tracing carrier) and runs each attempt through runJob', async () => {
      const given = { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, tracestate: 'k=v' };
      const active = { traceparent: `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01` };
      const attempts: Array<{ id: string; trace: unknown }> = [];
      const traced = new JobQueue({
        database: getDatabase(),
        queue: `${queueName}-traced`,
        clock,
        tracing: {
          carrier: () => active,
          runJob: (job, attempt) => {
            attempts.push({ id: job.id, trace: job.trace });
            return attempt();
          },
        },
      });
      const [first, second] = await traced.addMany([{ type: 'a', trace: given }, { type: 'a' }]);
      const claimed = await traced.claim('w', 10);
      expect(Object.fromEntries(claimed.map((job) => [job.id, job.trace]))).toEqual({
        [first!.id]: given,
        [second!.id]: active,
      });
      await traced.release(claimed);
      const worker = new JobWorker({ queue: traced, handlers: { a: { handler: () => 'ok' } } });
      expect(await worker.runOnce()).toBe(2);
      expect(attempts).toEqual(
        expect.arrayContaining([
          { id: first!.id, trace: given },
          { id: second!.id, trace: active },
        ]),
      );
      expect(await traced.counts()).toMatchObject({ done: 2 });
    });

    it('does not claim before run_at', async () => {
      await queue.add({ type: 'a', runAt: clock.now() + 1_000 });
      expect(await queue.claim('w', 1)).toEqual([]);
      clock.set(clock.now() + 1_000);
      expect(await queue.claim('w', 1)).toHaveLength(1);
    });

    it('retries with capped exponential backoff, then dead-letters, and re-drives', async () => {
      const capped = new JobQueue({
        database: getDatabase(),
        queue: queueName,
        clock,
        backoff: { baseDelayMs: 100, maxDelayMs: 250 },
      });
      await capped.add({ type: 'a', maxAttempts: 3 });
      const delays: number[] = [];
      for (let attempt = 1; attempt <= 3; attempt++) {
        const [job] = await capped.claim('w', 1);
        expect(job!.attempts).toBe(attempt);
        const status = await capped.fail(job!, new Error(`boom ${attempt}`));
        if (attempt < 3) {
          expect(status).toBe('pending');
          const stored = await capped.get(job!.id);
          delays.push(stored!.runAt - clock.now());
          clock.set(stored!.runAt);
        } else {
          expect(status).toBe('dead');
        }
      }
      expect(delays).toEqual([100, 200]);
      expect(capped.backoffDelay(10)).toBe(250);
      const dead = await capped.deadLetters();
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ status: 'dead', attempts: 3, lastError: 'boom 3' });
      expect(await capped.redrive()).toBe(1);
      const [again] = await capped.claim('w', 1);
      expect(again).toMatchObject({ attempts: 1, lastError: 'boom 3' });
    });

    it('lists jobs by status, newest first, and discards only dead ones', async () => {
      const first = await queue.add({ type: 'a', maxAttempts: 1 });
      await clock.advance(1);
      const second = await queue.add({ type: 'b' });
      const [claimed] = await queue.claim('w', 1);
      expect(claimed!.id).toBe(first.id);
      expect(await queue.fail(claimed!, new Error('boom'))).toBe('dead');
      expect((await queue.list()).map((job) => job.id)).toEqual([second.id, first.id]);
      expect((await queue.list({ status: 'dead' })).map((job) => job.id)).toEqual([first.id]);
      expect((await queue.list({ limit: 1, offset: 1 })).map((job) => job.id)).toEqual([first.id]);
      expect(await queue.discard(second.id)).toBe(false);
      expect(await queue.discard(first.id)).toBe(true);
      expect(await queue.discard(first.id)).toBe(false);
      expect(await queue.redrive({ ids: [first.id] })).toBe(0);
      expect(await queue.counts()).toMatchObject({ pending: 1, dead: 0 });
    });

    it('lists the jobs of some types oldest first, of this queue only, whatever their status', async () => {
      const other = new JobQueue({ database: getDatabase(), queue: `${queueName}-b`, clock, leaseGraceMs: 0 });
      await other.add({ type: 'plan', id: `${queueName}-elsewhere` });
      const plan = await queue.add({ type: 'plan', id: `${queueName}-z`, payload: { goal: 'g' }, maxAttempts: 1 });
      await clock.advance(1);
      const task = await queue.add({ type: 'task', id: `${queueName}-a` });
      await queue.add({ type: 'note' });
      const [claimed] = await queue.claim('w', 1);
      await queue.fail(claimed!, new Error('boom'));
      const listed = await queue.listByType(['plan', 'task']);
      expect(listed.map((job) => [job.id, job.type, job.status])).toEqual([
        [plan.id, 'plan', 'dead'],
        [task.id, 'task', 'pending'],
      ]);
      expect(listed[0]).toMatchObject({ payload: { goal: 'g' }, lastError: 'boom' });
      expect(await queue.listByType([])).toEqual([]);
    });

    it('reclaims a job whose lease expired', async () => {
      const events = record(queue, ['job.reclaimed', 'job.completed']);
      await queue.add({ type: 'a', timeoutMs: 1_000 });
      const [held] = await queue.claim('crashed', 1);
      expect(await queue.claim('w2', 1)).toEqual([]);
      clock.set(clock.now() + 1_001);
      const [reclaimed] = await queue.claim('w2', 1);
      expect(reclaimed).toMatchObject({ id: held!.id, lockedBy: 'w2', attempts: 2 });
      // the crashed holder's late completion does not count
      expect(await queue.complete(held!)).toBe(0);
      expect(await queue.complete(reclaimed!)).toBe(1);
      const job = { queue: queueName, jobId: held!.id, type: 'a' };
      expect(events).toEqual([
        ['job.reclaimed', { ...job, attempt: 2, previousHolder: 'crashed', workerId: 'w2' }],
        ['job.completed', { ...job, attempt: 2 }],
      ]);
    });

    it('dead-letters a job whose lease expired on its last attempt', async () => {
      const events = record(queue, ['job.reclaimed', 'job.dead-lettered']);
      const { id } = await queue.add({ type: 'a', timeoutMs: 10, maxAttempts: 1 });
      await queue.claim('crashed', 1);
      clock.set(clock.now() + 11);
      expect(await queue.claim('w2', 1)).toEqual([]);
      expect((await queue.deadLetters())[0]?.lastError).toMatch(/lease expired/);
      expect(events).toEqual([
        [
          'job.dead-lettered',
          {
            queue: queueName,
            jobId: id,
            type: 'a',
            attempts: 1,
            error: expect.objectContaining({ code: 'TIMEOUT', message: expect.stringMatching(/lease expired/) }),
          },
        ],
      ]);
    });

    it('worker: runs handlers, dead-letters a bad payload and an unknown type at once', async () => {
      const seen: unknown[] = [];
      const worker = new JobWorker({
        queue,
        handlers: {
          email: { schema: z.object({ to: z.string() }), handler: (payload) => void seen.push(payload) },
        },
      });
      await queue.add({ type: 'email', payload: { to: 'a@b.c' } });
      await queue.add({ type: 'email', payload: { to: 42 } });
      await queue.add({ type: 'mystery' });
      expect(await worker.runOnce()).toBe(3);
      expect(seen).toEqual([{ to: 'a@b.c' }]);
      const dead = await queue.deadLetters();
      expect(dead.map((job) => job.type).sort()).toEqual(['email', 'mystery']);
      expect(dead.find((job) => job.type === 'email')).toMatchObject({ attempts: 1 });
      expect(dead.find((job) => job.type === 'email')?.lastError).toMatch(/failed its schema.*to/);
      expect(dead.find((job) => job.type === 'mystery')?.lastError).toMatch(/Unknown job type "mystery"/);
      expect(worker.stats).toEqual({ completed: 1, retried: 0, dead: 2 });
      await worker.close();
    });

    it('worker: a poison job reaches dead letter after max attempts', async () => {
      const worker = new JobWorker({
        queue,
        handlers: {
          poison: {
            handler: () => {
              throw new Error('always fails');
            },
          },
        },
      });
      const events = record(queue, ['job.completed', 'job.retried', 'job.dead-lettered']);
      const { id } = await queue.add({ type: 'poison', maxAttempts: 3 });
      for (let round = 0; round < 3; round++) {
        expect(await worker.runOnce()).toBe(1);
        clock.set(clock.now() + 3_600_000);
      }
      expect(await queue.get(id)).toMatchObject({ status: 'dead', attempts: 3, lastError: 'always fails' });
      expect(worker.stats).toMatchObject({ retried: 2, dead: 1 });
      const job = { queue: queueName, jobId: id, type: 'poison' };
      const error = expect.objectContaining({ message: 'always fails' });
      expect(events).toEqual([
        ['job.retried', { ...job, attempt: 1, maxAttempts: 3, delayMs: 1_000, error }],
        ['job.retried', { ...job, attempt: 2, maxAttempts: 3, delayMs: 2_000, error }],
        ['job.dead-lettered', { ...job, attempts: 3, error }],
      ]);
    });

    it('worker: a handler past its timeout is aborted and the attempt fails', async () => {
      let signal: AbortSignal | undefined;
      const worker = new JobWorker({
        queue,
        handlers: {
          slow: {
            handler: (_payload, context) => {
              signal = context.signal;
              return new Promise(() => {});
            },
          },
        },
      });
      const { id } = await queue.add({ type: 'slow', timeoutMs: 50 });
      const running = worker.runOnce();
      for (let wait = 0; wait < 500 && clock.pendingTimers === 0; wait++) {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await clock.advance(51);
      await running;
      expect(signal?.aborted).toBe(true);
      expect(await queue.get(id)).toMatchObject({ status: 'pending', lastError: expect.stringMatching(/TIMEOUT/) });
    });

    it('logs retries (info), redeliveries (debug), dead letters (warn) and leases taken over (info)', async () => {
      const logger = capturingLogger();
      const logged = new JobQueue({ database: getDatabase(), queue: queueName, clock, leaseGraceMs: 0, logger });
      const worker = new JobWorker({
        queue: logged,
        handlers: {
          flaky: {
            handler: () => {
              throw Object.assign(new Error('smtp down'), { code: 'ECONNRESET' });
            },
          },
        },
      });
      const { id } = await logged.add({ type: 'flaky', maxAttempts: 2 });
      await worker.runOnce();
      clock.set(clock.now() + logged.backoffDelay(1));
      await worker.runOnce();
      const job = { queue: queueName, jobId: id, type: 'flaky' };
      expect(logger.lines.map(({ level, message, fields }) => [level, message, fields])).toEqual([
        [
          'info',
          'job failed; retrying',
          {
            ...job,
            attempt: 1,
            maxAttempts: 2,
            delayMs: 1_000,
            code: 'ECONNRESET',
            error: expect.objectContaining({ message: 'smtp down' }),
          },
        ],
        ['debug', 'job redelivered', { ...job, attempt: 2 }],
        [
          'warn',
          'job dead-lettered',
          { ...job, attempt: 2, code: 'ECONNRESET', error: expect.objectContaining({ message: 'smtp down' }) },
        ],
      ]);

      logger.lines.length = 0;
      const held = await logged.add({ type: 'slow', timeoutMs: 1_000 });
      await logged.claim('crashed', 1);
      clock.set(clock.now() + 1_001);
      await logged.claim('survivor', 1);
      expect(logger.lines).toEqual([
        {
          level: 'info',
          message: 'job lease expired: its holder did not finish; taken over',
          fields: {
            queue: queueName,
            jobId: held.id,
            type: 'slow',
            attempt: 2,
            previousHolder: 'crashed',
            workerId: 'survivor',
          },
        },
      ]);
    });

    it('worker: logs a database outage of its loop once, keeps polling, and logs its end', async () => {
      const logger = capturingLogger();
      const errors: unknown[] = [];
      const worker = new JobWorker({
        queue,
        logger,
        pollIntervalMs: 1_000,
        onError: (error) => errors.push(error),
        handlers: { n: { handler: () => {} } },
      });
      const db = getDatabase().kysely;
      // The jobs table goes away (as if the server failed) before the loop's first poll.
      await sql`alter table ${sql.table(JOBS_TABLE)} rename to agentrix_jobs_away`.execute(db);
      try {
        await worker.start();
        await vi.waitFor(() => expect(errors.length).toBeGreaterThanOrEqual(1));
      } finally {
        await sql`alter table agentrix_jobs_away rename to ${sql.table(JOBS_TABLE)}`.execute(db);
      }
      expect(logger.find(/polling the queue failed/)).toEqual([
        {
          level: 'warn',
          message: 'job worker: polling the queue failed; retrying',
          fields: expect.objectContaining({
            queue: queueName,
            workerId: worker.workerId,
            attempt: 1,
            delayMs: 1_000,
            code: '42P01',
          }),
        },
      ]);
      await vi.waitFor(() => expect(clock.pendingTimers).toBe(1)); // the idle poll's wait
      await clock.advance(1_000);
      await vi.waitFor(() => expect(logger.find(/database back/)).toHaveLength(1));
      expect(logger.find(/database back/)[0]).toMatchObject({
        level: 'info',
        fields: { queue: queueName, failures: 1 },
      });
      await worker.close();
    });

    it('worker: start() drains the queue and close() is idempotent', async () => {
      let count = 0;
      const worker = new JobWorker({
        queue,
        batchSize: 7,
        handlers: { n: { handler: () => void count++ } },
      });
      await queue.addMany(Array.from({ length: 30 }, (_, n) => ({ type: 'n', payload: n })));
      await worker.start();
      for (let wait = 0; wait < 200 && count < 30; wait++) await new Promise((resolve) => setTimeout(resolve, 5));
      const closing = worker.close();
      expect(worker.close()).toBe(closing);
      await closing;
      expect(count).toBe(30);
      const rows = await sql<{
        count: string;
      }>`select count(*) as count from ${sql.table(JOBS_TABLE)} where queue = ${queueName} and status = 'done'`.execute(
        getDatabase().kysely,
      );
      expect(Number(rows.rows[0]!.count)).toBe(30);
    });
  });
}
