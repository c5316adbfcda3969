// The supervisor restarts a worker that crashes every 2 messages, and nothing is lost.
//
// The worker (bus-worker.ts) runs one agent on a durable store and exits with code 1
// after every second handled message; the supervisor restarts it until the inbox is empty and
// the worker exits 0. Runs on PGlite always and on Postgres when DATABASE_URL is set.
//
// A PGlite directory is single-process: the test seeds it, closes it, lets only the worker open
// it while supervised, and reads the replies after the supervisor has stopped. On Postgres every
// run gets its own schema.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@agentrix/core';
import { Supervisor, type SupervisorEventMap } from '@agentrix/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgentrixStore } from '../agentrix-store.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const workerScript = fileURLToPath(new URL('./bus-worker.ts', import.meta.url));
/** Messages per run: a PGlite worker takes about 3 s to start (wasm, opening the directory), Postgres well under 1 s. */
const MESSAGES = { pglite: 6, postgres: 10 };
const CRASH_EVERY = 2;

interface Outcome {
  messages: number;
  answered: Set<string>;
  replies: number;
  starts: number;
  crashes: number;
  end: 'stopped' | 'crash-loop';
  seconds: number;
}

async function superviseUntilDone(url: string, schema: string | undefined): Promise<Outcome> {
  const started = Date.now();
  const messages = schema === undefined ? MESSAGES.pglite : MESSAGES.postgres;
  const agent = `supervised-${randomUUID().slice(0, 8)}`;
  const storeOptions = { url, vector: 'off' as const, ...(schema ? { schema } : {}) };
  {
    await using store = await createAgentrixStore(storeOptions);
    for (let index = 0; index < messages; index++) {
      await store.bus.send({ id: `m-${index}`, from: 'host', to: agent, replyTo: 'collector', content: `#${index}` });
    }
  }

  let output = '';
  const keep = (fields: Record<string, unknown>) => {
    if (typeof fields.text === 'string') output = (output + fields.text).slice(-4000);
  };
  const logger: Logger = { debug: () => {}, info: keep, warn: keep, error: () => {} };
  const supervisor = new Supervisor({
    workers: [
      {
        name: 'agents',
        command: process.execPath,
        args: ['--conditions=agentrix-source', '--import', 'tsx', workerScript],
        cwd: repoRoot,
        env: {
          WORKER_DATABASE_URL: url,
          WORKER_SCHEMA: schema ?? '',
          WORKER_AGENT: agent,
          WORKER_CRASH_EVERY: String(CRASH_EVERY),
        },
        output: 'logger',
      },
    ],
    backoff: { initialDelayMs: 20, maxDelayMs: 100 },
    // Well above the crashes this test causes: a real crash loop (a broken worker) ends it early.
    crashLoop: { maxCrashes: messages * 2, windowMs: 120_000 },
    gracePeriodMs: 2_000,
    logger,
  });
  let end: Outcome['end'];
  try {
    const finished = new Promise<Outcome['end']>((resolve) => {
      supervisor.events.on('worker.stopped', () => resolve('stopped'));
      supervisor.events.on('worker.crash-loop', () => resolve('crash-loop'));
    });
    const exits: Array<SupervisorEventMap['worker.exited']> = [];
    supervisor.events.on('worker.exited', (event) => exits.push(event));
    await supervisor.start();
    end = await finished;
    if (end !== 'stopped') throw new Error(`worker crash-looped; exits ${JSON.stringify(exits)}\n${output}`);
  } finally {
    await supervisor.close();
  }
  const status = supervisor.status('agents');

  await using store = await createAgentrixStore(storeOptions);
  const answered = new Set<string>();
  let replies = 0;
  for (;;) {
    const deliveries = await store.bus.read('collector', { max: 100, blockMs: 0 });
    if (deliveries.length === 0) break;
    for (const delivery of deliveries) {
      replies++;
      const id = delivery.envelope.inReplyTo ?? '?';
      answered.add(id);
      expect(delivery.envelope.content).toBe(`answer: #${id.slice(2)}`);
    }
    await store.bus.ack(
      'collector',
      deliveries.map((delivery) => delivery.deliveryId),
    );
  }
  expect(await store.bus.stats(agent)).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
  return {
    messages,
    answered,
    replies,
    starts: status.starts,
    crashes: status.crashes,
    end,
    seconds: (Date.now() - started) / 1000,
  };
}

function check(name: string, outcome: Outcome): void {
  process.stderr.write(`supervisor test ${name}: ${JSON.stringify({ ...outcome, answered: outcome.answered.size })}\n`);
  const expected = Array.from({ length: outcome.messages }, (_, index) => `m-${index}`);
  expect([...outcome.answered].sort()).toEqual(expected.sort());
  expect(outcome.replies).toBeGreaterThanOrEqual(outcome.messages);
  // each process handles at most CRASH_EVERY messages, and crashes after that many
  expect(outcome.crashes).toBeGreaterThanOrEqual(outcome.messages / CRASH_EVERY);
  expect(outcome.starts).toBe(outcome.crashes + 1);
}

afterAll(() => {
  const processes = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  expect(processes.split('\n').filter((line) => line.includes(workerScript))).toEqual([]);
});

describe('Supervisor with a worker that crashes every 2 messages', () => {
  it('restarts it until every message is answered, on PGlite', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'agentrix-supervisor-'));
    try {
      check('pglite', await superviseUntilDone(directory, undefined));
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 60_000);

  it.skipIf(!process.env.DATABASE_URL)(
    'restarts it until every message is answered, on Postgres',
    async () => {
      const url = process.env.DATABASE_URL as string;
      const schema = `supervisor_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      try {
        check('postgres', await superviseUntilDone(url, schema));
      } finally {
        const pg = await import('pg');
        const client = new pg.default.Client({ connectionString: url });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade`);
        await client.end();
      }
    },
    60_000,
  );
});
