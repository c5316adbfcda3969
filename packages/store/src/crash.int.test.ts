// Crash test: agents on a durable store are SIGKILLed at random points during 1,000 turns and
// restarted; every message must be answered (at least once), none lost. Runs on PGlite (on disk)
// always and on Postgres when DATABASE_URL is set.
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createAgentrixStore } from './agentrix-store.js';
import { onPgliteDirectory, onPostgresSchema } from './testing/crash-databases.js';
import { runScriptChild } from './testing/script-child.js';

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
    // Killed at a random point once it is READY, unless it finished all turns (DONE) before.
    const { output, killed } = await runScriptChild(childScript, { env, killOn: 'READY', killAfterMs: killAfter });
    if (killed) kills++;
    if (output.includes('DONE\n')) break;
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
    await onPgliteDirectory('crash', async (directory) => check('PGlite', await crashTest(directory, undefined)));
  }, 180_000);

  it.skipIf(!process.env.DATABASE_URL)(
    'loses no message on Postgres',
    async () => {
      const url = process.env.DATABASE_URL!;
      await onPostgresSchema(url, 'crash', async (schema) => check('Postgres', await crashTest(url, schema)));
    },
    180_000,
  );
});
