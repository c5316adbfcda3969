// Many processes: the same 100 agents hosted by 1, 2 and 4 worker processes on one Redis (and
// one Postgres for their contexts), fed by a host process. Prints the aggregate rate, the
// latency from send to ack, and the CPU time per message of the workers, the host and Redis,
// so a reader can see what one more process (or machine) buys.
//
//   node --conditions=agentrix-source --expose-gc --import tsx bench/bus/many-processes.ts
//
// Starts its own redis-server unless REDIS_URL is set; Postgres from DATABASE_URL, else a
// throwaway one (scripts/with-services.mjs).
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createRedisBus } from '@agentrix/bus';
import { openDatabase, storeMigrations } from '@agentrix/store';
import { Redis } from 'ioredis';
import { summarize } from '../lib/stats.js';
import { formatNumber, printTable } from '../lib/table.js';
import { withPostgres } from '../lib/with-postgres.js';
import { startBenchRedis } from './redis-server.js';

const AGENTS = 100;
const SENDERS = 100;
const WARMUP_MS = 1_000;
const DURATION_MS = Number(process.env.DURATION_MS ?? 4_000);
const workerScript = fileURLToPath(new URL('./many-processes-worker.ts', import.meta.url));

await withPostgres(main);

interface WorkerResult {
  handled: number;
  latencies: number[];
  cpuMicros: number;
}

async function redisCpuMicros(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (field('used_cpu_sys') + field('used_cpu_user')) * 1_000_000;
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores`);
  const redisServer = await startBenchRedis();
  const redis = new Redis(redisServer.url);
  const schema = `bench_${randomUUID().replaceAll('-', '')}`;
  const postgres = process.env.DATABASE_URL ? await openDatabase(process.env.DATABASE_URL, { schema }) : undefined;
  await postgres?.migrate(storeMigrations);
  const rows: string[][] = [];
  try {
    for (const processes of [1, 2, 4]) rows.push(await run(processes, redisServer.url, redis, schema));
  } finally {
    await postgres?.kysely.schema.dropSchema(schema).ifExists().cascade().execute();
    await postgres?.close();
    await redis.quit();
    await redisServer.stop();
  }
  printTable({
    title: `The same ${AGENTS} agents in N worker processes on one Redis${postgres ? ' and one Postgres' : ''}`,
    headers: [
      'processes',
      'messages/s',
      'p50 ms',
      'p99 ms',
      'worker CPU µs/msg',
      'host CPU µs/msg',
      'Redis CPU µs/msg',
    ],
    rows,
    notes: [
      `A host process sends with ${SENDERS} sender chains (at most 20 unacked messages per agent); each worker hosts every`,
      `agent with its own consumer and, per message, ${postgres ? 'saves the agent context on Postgres, then ' : ''}acks (read max 1, as the runtime).`,
      'Latency: send -> acked, taken in the worker (same machine clock). CPU: user + system time over the',
      `measured ${DURATION_MS / 1000} s, divided by the messages acked in it. Everything shares this machine's cores, so more`,
      'processes show the cost of spreading out here, and the CPU per message shows what each extra machine would carry.',
    ],
  });
}

async function run(processes: number, url: string, redis: Redis, schema: string): Promise<string[]> {
  const namespace = `many-${randomUUID()}`;
  const progress = new Array<number>(processes).fill(0);
  const children: ChildProcess[] = [];
  const exits: Array<Promise<unknown>> = [];
  for (let index = 0; index < processes; index++) {
    const child = fork(workerScript, [], {
      execArgv: ['--conditions=agentrix-source', '--import', 'tsx'],
      env: { ...process.env, REDIS_URL: url, NAMESPACE: namespace, SCHEMA: schema, AGENTS: String(AGENTS) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    exits.push(new Promise((resolve) => child.once('exit', resolve)));
    child.on('message', (message: { progress?: number }) => {
      if (message.progress !== undefined) progress[index] = message.progress;
    });
  }
  await Promise.all(children.map((child) => new Promise<void>((resolve) => child.once('message', () => resolve()))));
  const bus = await createRedisBus({ url, namespace });
  const agents = Array.from({ length: AGENTS }, (_, index) => `agent-${index}`);
  let sent = 0;
  let stop = false;
  const acked = () => progress.reduce((sum, value) => sum + value, 0);
  const sender = async () => {
    while (!stop) {
      if (sent - acked() >= AGENTS * 20) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      const to = agents[sent++ % AGENTS]!;
      await bus.send({ from: 'host', to, content: 'ping', data: { sentAt: Date.now() } });
    }
  };
  const senders = Array.from({ length: SENDERS }, sender);
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  // Counting starts now in every worker.
  for (const child of children) child.send({ command: 'count' });
  const hostCpu = process.cpuUsage();
  const redisCpu = await redisCpuMicros(redis);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, DURATION_MS));
  const seconds = (performance.now() - started) / 1_000;
  const hostMicros = process.cpuUsage(hostCpu);
  const redisMicros = (await redisCpuMicros(redis)) - redisCpu;
  const results = await Promise.all(
    children.map(
      (child) =>
        new Promise<WorkerResult>((resolve) => {
          child.on('message', (message: { done?: WorkerResult }) => {
            if (message.done) resolve(message.done);
          });
          child.send({ command: 'stop' });
        }),
    ),
  );
  stop = true;
  await Promise.all(senders);
  await bus.close();
  await Promise.all(exits);
  const handled = results.reduce((sum, result) => sum + result.handled, 0);
  const latency = summarize(Float64Array.from(results.flatMap((result) => result.latencies)));
  const workerMicros = results.reduce((sum, result) => sum + result.cpuMicros, 0);
  const perMessage = (micros: number) => formatNumber(micros / Math.max(1, handled), 1);
  return [
    String(processes),
    formatNumber(handled / seconds),
    formatNumber(latency.median, 1),
    formatNumber(latency.p99, 1),
    perMessage(workerMicros),
    perMessage(hostMicros.user + hostMicros.system),
    perMessage(redisMicros),
  ];
}
