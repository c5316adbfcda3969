import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import type { SendInput } from '@agentrix/core';
import { JOBS_TABLE, JobQueue, JobWorker, Scheduler, schedulerKysely, schedulerMigrations } from '@agentrix/scheduler';
import { type Database, jsonb, openDatabase } from '@agentrix/store';
import { summarize } from '../lib/stats.js';
import { formatNumber, formatRatio, printTable } from '../lib/table.js';
import { withPostgres } from '../lib/with-postgres.js';

const JOBS = Number(process.env.JOBS ?? 20_000);
const TARGET_POSTGRES = 10_000;

await withPostgres(main);

interface Target {
  name: string;
  /** One database per worker (separate pools on Postgres; PGlite is one in-process engine, shared). */
  open(): Promise<Database>;
  close(): Promise<void>;
  postgres: boolean;
}

async function main(): Promise<void> {
  console.log(
    `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${JOBS} jobs per row`,
  );
  const targets: Target[] = [];
  const pglite = await openDatabase('memory://', { vector: 'off' });
  await pglite.migrate(schedulerMigrations);
  targets.push({ name: 'PGlite memory://', open: async () => pglite, close: () => pglite.close(), postgres: false });
  const url = process.env.DATABASE_URL;
  if (url) {
    const schema = `bench_${randomUUID().replaceAll('-', '')}`;
    const opened: Database[] = [];
    const first = await openDatabase(url, { schema });
    await first.migrate(schedulerMigrations);
    opened.push(first);
    targets.push({
      name: 'Postgres',
      postgres: true,
      async open() {
        const database = await openDatabase(url, { schema, maxConnections: 4 });
        opened.push(database);
        return database;
      },
      async close() {
        await first.kysely.schema.dropSchema(schema).ifExists().cascade().execute();
        for (const database of opened) await database.close();
      },
    });
  }
  for (const target of targets) await benchThroughput(target);
  await benchTickJitter(pglite);
  for (const target of targets) await target.close();
}

async function benchThroughput(target: Target): Promise<void> {
  const rows: string[][] = [];
  const baseDb = await target.open();
  const baseline = await rawRate(baseDb);
  rows.push(['raw UPDATE ... WHERE id IN (100 ids) (baseline)', '-', formatNumber(baseline), '1.00x', '']);
  const workerCounts = target.postgres ? [1, 2, 4] : [1, 2];
  for (const workers of workerCounts) {
    for (const [batchSize, prefetch] of [
      [10, false],
      [10, true],
      [100, true],
    ] as const) {
      // `prefetch: false` rows run the old loop: one claim of `batchSize` after each batch.
      const rate = await queueRate(target, workers, batchSize, prefetch);
      const target_ = TARGET_POSTGRES * (workers >= 4 ? 2 : 1);
      const defaults = batchSize === 10 && prefetch;
      const status = target.postgres && defaults && workers !== 2 ? (rate >= target_ ? 'met' : 'MISSED') : '';
      rows.push([
        `JobQueue + JobWorker, batch ${batchSize}${prefetch ? (defaults ? ' (defaults: prefetch, claims grow to 500)' : ', prefetch') : ', one claim per batch (before)'}`,
        String(workers),
        formatNumber(rate),
        formatRatio(rate, baseline),
        status,
      ]);
    }
  }
  printTable({
    title: `Jobs claimed + completed per second: ${target.name}`,
    headers: ['what', 'workers', 'jobs/s', 'ratio', 'status'],
    rows,
    notes: [
      `Each row adds ${JOBS} no-op jobs (batched), then times the workers draining them (claim with FOR UPDATE SKIP LOCKED, run, complete in one statement per batch).`,
      target.postgres
        ? `Target with default settings: >= ${formatNumber(TARGET_POSTGRES)} jobs/s with one worker, >= ${formatNumber(2 * TARGET_POSTGRES)} with four, on Postgres. Each worker has its own pool (as a separate process would).`
        : 'PGlite is one embedded engine: every worker shares it, so more workers only add interleaving.',
    ],
  });
}

/** Rows per second through a plain `UPDATE ... SET status = 'done' WHERE id IN (100 ids)` on freshly inserted rows: less than one claim + complete does. */
async function rawRate(database: Database): Promise<number> {
  const queue = `raw-${randomUUID().slice(0, 8)}`;
  const ids: string[] = [];
  for (let start = 0; start < JOBS; start += 1_000) {
    const values = Array.from({ length: Math.min(1_000, JOBS - start) }, (_, index) => {
      const id = `${queue}-${start + index}`;
      ids.push(id);
      return { id, queue, type: 'noop', payload: jsonb(null), run_at: 0, created_at: 0, updated_at: 0 };
    });
    await schedulerKysely(database).insertInto(JOBS_TABLE).values(values).execute();
  }
  const inserted = performance.now();
  for (let start = 0; start < ids.length; start += 100) {
    await schedulerKysely(database)
      .updateTable(JOBS_TABLE)
      .set({ status: 'done' })
      .where('id', 'in', ids.slice(start, start + 100))
      .execute();
  }
  const updated = performance.now();
  return JOBS / ((updated - inserted) / 1_000);
}

async function queueRate(target: Target, workerCount: number, batchSize: number, prefetch: boolean): Promise<number> {
  const queueName = `bench-${randomUUID().slice(0, 8)}`;
  const producer = new JobQueue({ database: await target.open(), queue: queueName });
  for (let start = 0; start < JOBS; start += 5_000) {
    await producer.addMany(
      Array.from({ length: Math.min(5_000, JOBS - start) }, (_, n) => ({ type: 'noop', payload: n })),
    );
  }
  const workers: JobWorker[] = [];
  for (let index = 0; index < workerCount; index++) {
    const queue = new JobQueue({ database: await target.open(), queue: queueName });
    workers.push(
      new JobWorker({
        queue,
        batchSize,
        prefetch,
        ...(prefetch ? {} : { maxClaimSize: batchSize }),
        pollIntervalMs: 5,
        handlers: { noop: { handler: () => {} } },
      }),
    );
  }
  const started = performance.now();
  await Promise.all(workers.map((worker) => worker.start()));
  for (;;) {
    const done = workers.reduce((sum, worker) => sum + worker.stats.completed, 0);
    if (done >= JOBS) break;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const seconds = (performance.now() - started) / 1_000;
  await Promise.all(workers.map((worker) => worker.close()));
  return JOBS / seconds;
}

async function benchTickJitter(database: Database): Promise<void> {
  const lateness: number[] = [];
  const agents = 20;
  const scheduler = new Scheduler({
    database,
    send: async (input: SendInput) => {
      const data = input.data as { scheduledFor: number; firedAt: number };
      lateness.push(Date.now() - data.scheduledFor);
    },
  });
  await scheduler.start();
  for (let index = 0; index < agents; index++)
    await scheduler.schedule({ agentId: `agent-${index}`, cron: '* * * * * *' });
  await new Promise((resolve) => setTimeout(resolve, 5_200));
  await scheduler.close();
  const summary = summarize(Float64Array.from(lateness));
  printTable({
    title: 'Cron tick jitter (PGlite, systemClock, every second)',
    headers: ['agents', 'ticks', 'median ms late', 'p99 ms late', 'max ms late'],
    rows: [
      [
        String(agents),
        String(summary.count),
        formatNumber(summary.median, 1),
        formatNumber(summary.p99, 1),
        formatNumber(summary.max, 1),
      ],
    ],
    notes: [
      'Lateness = time the tick message was handed to send() - the time the cron said it was due; ticks of one timer are sent one after another.',
    ],
  });
}
