import { randomUUID } from 'node:crypto';
import { useTestPglite } from '@agentrix/store/testing';
import { describe, expect, it } from 'vitest';
import { JobQueue } from './job-queue.js';
import { JobWorker } from './job-worker.js';
import { schedulerMigrations } from './migrations.js';

const pglite = useTestPglite({ migrations: schedulerMigrations });

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await wait(20);
  }
}

describe('JobWorker prefetch', () => {
  it('never starts a prefetched job on a lease shorter than its timeout, and runs each job once', async () => {
    // Jobs run 1.4 s; a prefetched batch waits that long, past the 600 ms lease grace: started
    // then (with 1.2 s of lease left), it would run past its lease (2 s + 600 ms from its
    // claim), and the other worker could take it over and run it again.
    const queue = new JobQueue({
      database: pglite().database,
      queue: `q-${randomUUID()}`,
      timeoutMs: 2_000,
      leaseGraceMs: 600,
    });
    const runs = new Map<string, number>();
    const leaseLeft: number[] = [];
    const handlers = {
      slow: {
        async handler(_payload: unknown, { job }: { job: { id: string; leaseUntil: number | undefined } }) {
          leaseLeft.push(job.leaseUntil! - Date.now());
          runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
          await wait(1_400);
        },
      },
    };
    const added = await queue.addMany(Array.from({ length: 12 }, () => ({ type: 'slow', payload: {} })));
    const workers = [1, 2].map(
      (index) => new JobWorker({ queue, handlers, batchSize: 3, pollIntervalMs: 20, workerId: `w${index}` }),
    );
    await Promise.all(workers.map((worker) => worker.start()));
    await until(async () => (await queue.counts()).done === 12);
    await Promise.all(workers.map((worker) => worker.close()));
    expect([...runs.values()]).toEqual(added.map(() => 1));
    // Started at once after their claim (a loaded machine may answer the claim late), never
    // with the 1.2 s a prefetched job would have had.
    expect(Math.min(...leaseLeft)).toBeGreaterThan(1_500);
  }, 20_000);

  it('claims ahead while a full batch runs and gives the claimed-ahead batch back on close', async () => {
    const queue = new JobQueue({ database: pglite().database, queue: `q-${randomUUID()}` });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started: string[] = [];
    const handlers = {
      gated: {
        async handler(_payload: unknown, { job }: { job: { id: string } }) {
          started.push(job.id);
          await gate;
        },
      },
    };
    await queue.addMany(Array.from({ length: 4 }, () => ({ type: 'gated', payload: {} })));
    const worker = new JobWorker({ queue, handlers, batchSize: 2, pollIntervalMs: 20 });
    await worker.start();
    // Two running, two claimed ahead (running, not started).
    await until(async () => (await queue.counts()).running === 4);
    expect(started).toHaveLength(2);
    const closing = worker.close();
    release();
    await closing;
    const counts = await queue.counts();
    expect(counts).toMatchObject({ done: 2, pending: 2, running: 0 });
    const pending = await queue.list({ status: 'pending' });
    expect(pending.map((job) => job.attempts)).toEqual([0, 0]);
  }, 20_000);
});
