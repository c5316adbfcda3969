// Diagnostic (not part of run.ts): Redis's CPU instructions per message end to end, counted by
// valgrind's callgrind, so the figure does not depend on what else the machine runs (CPU time
// per message does, by 30% and more on a shared 2-core machine). Needs valgrind.
//
//   node --conditions=agentrix-source --import tsx bench/bus/redis-instructions.ts [messages] [agents]
//
// Starts redis-server under callgrind on a free port (no persistence; REDIS_ARGS adds settings),
// warms up with 3,000 messages, zeroes the counters, delivers [messages] (default 5,000) through
// RedisStreamsBus ([agents], default 100, read max 1, ack) and prints the instructions Redis ran
// per message (CALLGRIND_OUT=<file> keeps the dump for callgrind_annotate). Under valgrind Redis
// is ~50x slower, so its batches are full: the figure is the per-message work of full batches.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRedisBus } from '@agentrix/bus';
import { Redis } from 'ioredis';
import { deliverFixedCount } from './fixed-count.js';
import { REDIS_SERVER_BIN } from './redis-server.js';

const messages = Number(process.argv[2] ?? 5_000);
const agents = Number(process.argv[3] ?? 100);
const dir = mkdtempSync(path.join(tmpdir(), 'agentrix-callgrind-'));
const port = 20_000 + Math.floor(Math.random() * 20_000);
const server = spawn(
  'valgrind',
  [
    '--tool=callgrind',
    `--callgrind-out-file=${dir}/callgrind.out`,
    REDIS_SERVER_BIN,
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    // Server settings to compare, e.g. REDIS_ARGS='--stream-node-max-bytes 1024'.
    ...(process.env.REDIS_ARGS ?? '').split(' ').filter((arg) => arg !== ''),
  ],
  { stdio: 'ignore' },
);
const url = `redis://127.0.0.1:${port}`;
try {
  await waitForRedis(url);
  const bus = await createRedisBus({ url, namespace: 'instructions' });
  await deliverFixedCount(bus, 3_000, 'warm-up', agents);
  execFileSync('callgrind_control', ['--zero', String(server.pid)], { stdio: 'ignore' });
  await deliverFixedCount(bus, messages, 'measured', agents);
  execFileSync('callgrind_control', ['--dump', String(server.pid)], { stdio: 'ignore' });
  await bus.close();
  // The dump after the zeroing is the first numbered part (callgrind.out.1).
  const dump = readdirSync(dir).find((name) => name.endsWith('.1'));
  const totals = dump && /\n(?:summary|totals): (\d+)/.exec(readFileSync(path.join(dir, dump), 'utf8'));
  if (!totals) throw new Error(`no callgrind dump in ${dir}`);
  const perMessage = Number(totals[1]) / messages;
  if (process.env.CALLGRIND_OUT) copyFileSync(path.join(dir, dump), process.env.CALLGRIND_OUT);
  console.log(
    `Redis instructions per message: ${Math.round(perMessage).toLocaleString('en-US')} (${messages} messages, ${agents} agents)`,
  );
} finally {
  if (server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}

async function waitForRedis(target: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const client = new Redis(target, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      await client.quit();
      return;
    } catch {
      client.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
  throw new Error(`redis-server under valgrind did not answer on port ${port}`);
}
