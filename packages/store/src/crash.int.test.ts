// Crash test: agents on a durable store are SIGKILLed at random points during 1,000 turns and
// restarted; every message must be answered (at least once), none lost. Runs on PGlite (on disk)
// always and on Postgres when DATABASE_URL is set.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createAgentrixStore } from './agentrix-store.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const childScript = fileURLToPath(new URL('./crash/crash-child.ts', import.meta.url));
const AGENTS = 5;
const PER_AGENT = 200;
const TOTAL = AGENTS * PER_AGENT;
/** Kill the child this long after it reports READY (uniformly random): PGlite turns are slower. */
const KILL_AFTER_MS: Record<'pglite' | 'postgres', [number, number]> = { pglite: [300, 2500], postgres: [100, 700] };
const MAX_RUNS = 60;

interface CrashReport {
  runs: number;
  kills: number;
  answered: number;
  replies: number;
  duplicates: number;
  lost: number;
  deadLetters: number;
  turnsInContexts: number;
  seconds: number;
}

function runChild(env: Record<string, string>, killAfterMs: number): Promise<{ done: boolean; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--conditions=agentrix-source', '--import', 'tsx', childScript],
      {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    let errors = '';
    let killed = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      if (timer === undefined && output.includes('READY\n') && !output.includes('DONE\n')) {
        timer = setTimeout(() => {
          killed = true;
          child.kill('SIGKILL');
        }, killAfterMs);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      errors = (errors + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      const done = output.includes('DONE\n');
      if (done && code === 0) return resolve({ done: true, killed: false });
      if (killed && signal === 'SIGKILL') return resolve({ done, killed: true });
      reject(new Error(`crash child failed (code ${code}, signal ${signal}):\n${output}\n${errors}`));
    });
  });
}

async function crashTest(url: string, schema: string | undefined): Promise<CrashReport> {
  const started = Date.now();
  const agentIds = Array.from({ length: AGENTS }, (_, index) => `crash-agent-${index}`);
  // Seed every message up front (explicit ids: sending again would not duplicate them).
  {
    await using store = await createAgentrixStore({ url, vector: 'off', ...(schema ? { schema } : {}) });
    for (let index = 0; index < PER_AGENT; index++) {
      for (const to of agentIds) {
        await store.bus.send({
          id: `m-${to}-${index}`,
          from: 'host',
          to,
          replyTo: 'collector',
          content: `${to} #${index}`,
        });
      }
    }
  }
  const env = { CRASH_DATABASE_URL: url, CRASH_SCHEMA: schema ?? '', CRASH_AGENTS: agentIds.join(',') };
  let runs = 0;
  let kills = 0;
  for (;;) {
    runs++;
    if (runs > MAX_RUNS) throw new Error(`not done after ${MAX_RUNS} runs`);
    const [min, max] = KILL_AFTER_MS[url.startsWith('postgres') ? 'postgres' : 'pglite'];
    const killAfter = min + Math.random() * (max - min);
    const outcome = await runChild(env, killAfter);
    if (outcome.killed) kills++;
    if (outcome.done) break;
  }
  await using store = await createAgentrixStore({ url, vector: 'off', ...(schema ? { schema } : {}) });
  const answers = new Map<string, number>();
  let replies = 0;
  for (;;) {
    const deliveries = await store.bus.read('collector', { max: 500, blockMs: 0 });
    if (deliveries.length === 0) break;
    for (const delivery of deliveries) {
      replies++;
      const id = delivery.envelope.inReplyTo ?? '?';
      answers.set(id, (answers.get(id) ?? 0) + 1);
      expect(delivery.envelope.content).toBe(`answer: ${id.replace(/^m-(.*)-(\d+)$/, '$1 #$2')}`);
    }
    await store.bus.ack(
      'collector',
      deliveries.map((delivery) => delivery.deliveryId),
    );
  }
  let lost = 0;
  let deadLetters = 0;
  let turnsInContexts = 0;
  for (const to of agentIds) {
    for (let index = 0; index < PER_AGENT; index++) if (!answers.has(`m-${to}-${index}`)) lost++;
    deadLetters += (await store.bus.stats(to)).deadLetters;
    turnsInContexts += (await store.contexts.load(to, 'main'))?.turns ?? 0;
  }
  const registered = await store.registry.list();
  expect(registered.map((entry) => entry.spec.id).sort()).toEqual(agentIds);
  await sql`select 1`.execute(store.database.kysely);
  return {
    runs,
    kills,
    answered: answers.size,
    replies,
    duplicates: replies - answers.size,
    lost,
    deadLetters,
    turnsInContexts,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}

function check(name: string, report: CrashReport): void {
  process.stderr.write(`crash test ${name}: ${JSON.stringify(report)}\n`);
  expect(report.lost).toBe(0);
  expect(report.answered).toBe(TOTAL);
  expect(report.deadLetters).toBe(0);
  expect(report.kills).toBeGreaterThan(0);
  expect(report.turnsInContexts).toBeGreaterThanOrEqual(TOTAL);
}

describe('crash test: SIGKILL during 1,000 turns', () => {
  it('loses no message on PGlite (on disk)', async () => {
    const directory = path.join(os.tmpdir(), `agentrix-crash-${randomUUID()}`);
    try {
      check('PGlite', await crashTest(directory, undefined));
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 180_000);

  it.skipIf(!process.env.DATABASE_URL)(
    'loses no message on Postgres',
    async () => {
      const url = process.env.DATABASE_URL!;
      const schema = `crash_${randomUUID().replaceAll('-', '')}`;
      try {
        check('Postgres', await crashTest(url, schema));
      } finally {
        await using store = await createAgentrixStore({ url, schema });
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.database.kysely);
      }
    },
    180_000,
  );
});
