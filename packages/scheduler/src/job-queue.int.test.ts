// On a real Postgres: the shared contract, plus several connections (separate pools, as separate
// processes would have) sharing one queue.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Database } from '@agentrix/store';
import { openTestPostgres, useTestPostgres } from '@agentrix/store/testing';
import { FakeClock } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';
import { jobQueueContract } from './job-queue.contract.js';
import { JobQueue } from './job-queue.js';
import { JobWorker } from './job-worker.js';
import { schedulerMigrations } from './migrations.js';

const url = process.env.DATABASE_URL;

describe.skipIf(!url)('Postgres', () => {
  const postgres = useTestPostgres(url!, { migrations: schedulerMigrations });

  jobQueueContract(
    'PostgreSQL server',
    () => postgres().database,
    () => openTestPostgres(url!),
  );

  it('two workers on two connections claim 10,000 jobs and each is done exactly once', async () => {
    const queueName = 'ten-thousand';
    const producer = new JobQueue({ database: postgres().database, queue: queueName });
    await producer.addMany(Array.from({ length: 10_000 }, (_, n) => ({ type: 'count', payload: n })));
    const runs = new Map<number, number>();
    const errors: unknown[] = [];
    const databases: Database[] = [await postgres().openAnother(), await postgres().openAnother()];
    const workers = databases.map(
      (database, index) =>
        new JobWorker({
          queue: new JobQueue({ database, queue: queueName }),
          workerId: `w${index}`,
          batchSize: 200,
          pollIntervalMs: 20,
          onError: (error) => errors.push(error),
          handlers: {
            count: {
              handler: (payload: number) => {
                runs.set(payload, (runs.get(payload) ?? 0) + 1);
              },
            },
          },
        }),
    );
    for (const worker of workers) await worker.start();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && errors.length === 0) {
      if (workers[0]!.stats.completed + workers[1]!.stats.completed >= 10_000) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(workers.map((worker) => worker.close()));
    expect(errors).toEqual([]);
    expect(await producer.counts()).toMatchObject({ done: 10_000, pending: 0, running: 0, dead: 0 });
    expect(runs.size).toBe(10_000);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    // both took a share
    expect(workers.every((worker) => worker.stats.completed > 0)).toBe(true);
    expect(workers[0]!.stats.completed + workers[1]!.stats.completed).toBe(10_000);
  });

  it('two worker processes claim 10,000 jobs and each is done exactly once', async () => {
    const queueName = 'two-processes';
    const producer = new JobQueue({ database: postgres().database, queue: queueName });
    await producer.addMany(Array.from({ length: 10_000 }, (_, n) => ({ type: 'count', payload: n })));
    const children = [0, 1].map(() =>
      fork(fileURLToPath(new URL('./fixtures/drain-worker.ts', import.meta.url)), [], {
        env: { ...process.env, JOBS_SCHEMA: postgres().schema, JOBS_QUEUE: queueName },
        execArgv: ['--conditions=agentrix-source', '--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    const ready: Promise<void>[] = [];
    const results = children.map(
      (child) =>
        new Promise<number[]>((resolve, reject) => {
          ready.push(new Promise((ok) => child.once('message', () => ok())));
          child.once('exit', (code) => reject(new Error(`worker process exited with ${code} before reporting`)));
          void ready
            .at(-1)!
            .then(() => child.once('message', (message) => resolve((message as { handled: number[] }).handled)));
        }),
    );
    // both are up (imports done, connected) before either starts: give them the go together
    await Promise.all(ready);
    for (const child of children) child.send('go');
    const handled = await Promise.all(results);
    const all = handled.flat();
    expect(all).toHaveLength(10_000);
    expect(new Set(all).size).toBe(10_000);
    expect(handled.every((list) => list.length > 0)).toBe(true);
    expect(await producer.counts()).toMatchObject({ done: 10_000, pending: 0, running: 0, dead: 0 });
  });

  it("a killed worker process's job is retried by another after its lease expires", async () => {
    const queueName = 'killed';
    const queue = new JobQueue({ database: postgres().database, queue: queueName, leaseGraceMs: 0 });
    const { id } = await queue.add({ type: 'hang', timeoutMs: 1_500 });
    const child = fork(fileURLToPath(new URL('./fixtures/hanging-worker.ts', import.meta.url)), [], {
      env: { ...process.env, JOBS_SCHEMA: postgres().schema, JOBS_QUEUE: queueName },
      execArgv: ['--conditions=agentrix-source', '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`fixture exited early with ${code}`)));
    });
    const held = await queue.get(id);
    expect(held).toMatchObject({ status: 'running', attempts: 1 });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // The survivor's clock, not a real wait, moves past the dead process's 1.5 s lease.
    const clock = new FakeClock(held!.lockedAt!);
    const survivor = new JobQueue({ database: postgres().database, queue: queueName, leaseGraceMs: 0, clock });
    const worker = new JobWorker({
      queue: survivor,
      workerId: 'survivor',
      handlers: { hang: { handler: () => 'ok' } },
    });
    expect(await worker.runOnce()).toBe(0); // lease still held by the dead process
    clock.set(clock.now() + 1_600);
    expect(await worker.runOnce()).toBe(1);
    expect(await queue.get(id)).toMatchObject({ status: 'done', attempts: 2 });
    await worker.close();
  });
});
