import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisBus } from './index.js';
import { requireRedisUrl } from './redis-test-support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function startWorker(env: Record<string, string>): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(
    process.execPath,
    ['--conditions=agentrix-source', '--import', 'tsx', path.join(here, 'redis-multi-process-worker.ts')],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
  });
  return { child, ready };
}

describe('RedisStreamsBus across processes', () => {
  const children: ChildProcess[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  it('handles 10,000 messages with two workers when one is SIGKILLed midway: none lost, duplicates counted', async () => {
    const url = requireRedisUrl();
    const namespace = `test-${randomUUID()}`;
    const total = 10_000;
    const leaseMs = 2000;
    const agents = Array.from({ length: 20 }, (_, index) => `agent-${index}`);
    const bus = await createRedisBus({ url, namespace, leaseMs });
    cleanups.push(() => bus.close());
    const redis = new Redis(url);
    cleanups.push(() => redis.quit());
    await bus.createGroup('team');
    for (const agent of agents) await bus.join('team', agent);

    const env = { REDIS_URL: url, BUS_NAMESPACE: namespace, AGENTS: agents.join(','), LEASE_MS: String(leaseMs) };
    const a = startWorker({ ...env, WORKER_NAME: 'worker-a' });
    const b = startWorker({ ...env, WORKER_NAME: 'worker-b' });
    children.push(a.child, b.child);
    await Promise.all([a.ready, b.ready]);

    const started = Date.now();
    const members = await bus.members('team');
    let killedAt = -1;
    for (let index = 0; index < total; index += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, offset) =>
          bus.send({
            id: `m-${index + offset}`,
            from: 'sender',
            to: members[(index + offset) % members.length]!,
            content: String(index + offset),
          }),
        ),
      );
      if (killedAt < 0 && (await redis.hlen(`${namespace}:handled`)) >= total / 4) {
        a.child.kill('SIGKILL');
        killedAt = index + 100;
      }
    }
    if (killedAt < 0) {
      // Everything was handled before a quarter was counted: kill now, the rest still runs on b.
      a.child.kill('SIGKILL');
      killedAt = total;
    }

    const deadline = Date.now() + 45_000;
    let stats = { unread: -1, inFlight: -1, deadLetters: -1 };
    for (;;) {
      const handled = await redis.hlen(`${namespace}:handled`);
      if (handled === total) {
        stats = { unread: 0, inFlight: 0, deadLetters: 0 };
        for (const agent of agents) {
          const one = await bus.stats(agent);
          stats.unread += one.unread;
          stats.inFlight += one.inFlight;
          stats.deadLetters += one.deadLetters;
        }
        if (stats.unread === 0 && stats.inFlight === 0) break;
      }
      if (Date.now() > deadline) break;
      await wait(100);
    }
    const counts = (await redis.hgetall(`${namespace}:handled`)) as Record<string, string>;
    const byWorker = (await redis.hgetall(`${namespace}:by-worker`)) as Record<string, string>;
    const handlings = Object.values(counts).reduce((sum, count) => sum + Number(count), 0);
    const handled = Object.keys(counts).length;
    const duplicates = handlings - handled;
    console.log(
      `multi-process: sent ${total}, handled ${handled} distinct, ${handlings} handlings, duplicates ${duplicates}, ` +
        `worker-a ${byWorker['worker-a'] ?? 0} (SIGKILL after ${killedAt} sent), worker-b ${byWorker['worker-b'] ?? 0}, ` +
        `${Date.now() - started} ms`,
    );
    expect(handled).toBe(total);
    for (let index = 0; index < total; index++) expect(counts[`m-${index}`], `m-${index}`).toBeDefined();
    expect(stats).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });

    b.child.kill('SIGTERM');
    const code = await new Promise((resolve) => b.child.once('exit', resolve));
    expect(code).toBe(0);
  });
});
