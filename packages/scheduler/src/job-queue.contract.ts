// The JobQueue / JobWorker behaviour every database must show (run on PGlite and Postgres).

import type { Database } from '@agentrix/store';
import { FakeClock } from '@agentrix/testing';
import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JobQueue } from './job-queue.js';
import { JobWorker } from './job-worker.js';
import { JOBS_TABLE } from './migrations.js';

export function jobQueueContract(name: string, getDatabase: () => Database): void {
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

    it('reclaims a job whose lease expired', async () => {
      await queue.add({ type: 'a', timeoutMs: 1_000 });
      const [held] = await queue.claim('crashed', 1);
      expect(await queue.claim('w2', 1)).toEqual([]);
      clock.set(clock.now() + 1_001);
      const [reclaimed] = await queue.claim('w2', 1);
      expect(reclaimed).toMatchObject({ id: held!.id, lockedBy: 'w2', attempts: 2 });
      // the crashed holder's late completion does not count
      expect(await queue.complete(held!)).toBe(0);
      expect(await queue.complete(reclaimed!)).toBe(1);
    });

    it('dead-letters a job whose lease expired on its last attempt', async () => {
      await queue.add({ type: 'a', timeoutMs: 10, maxAttempts: 1 });
      await queue.claim('crashed', 1);
      clock.set(clock.now() + 11);
      expect(await queue.claim('w2', 1)).toEqual([]);
      expect((await queue.deadLetters())[0]?.lastError).toMatch(/lease expired/);
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
      const { id } = await queue.add({ type: 'poison', maxAttempts: 3 });
      for (let round = 0; round < 3; round++) {
        expect(await worker.runOnce()).toBe(1);
        clock.set(clock.now() + 3_600_000);
      }
      expect(await queue.get(id)).toMatchObject({ status: 'dead', attempts: 3, lastError: 'always fails' });
      expect(worker.stats).toMatchObject({ retried: 2, dead: 1 });
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
