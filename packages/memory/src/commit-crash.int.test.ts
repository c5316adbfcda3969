// Memory is part of the turn's commit: a host SIGKILLed after memory wrote a turn's episode and
// before the turn's context was saved and its message acked loses nothing. The restarted host
// answers the redelivered message, records no second episode, and keeps the turn once in the
// context. Runs on PGlite (on disk) always and on Postgres when DATABASE_URL is set.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_THREAD } from '@agentrix/core';
import { createAgentrixStore } from '@agentrix/store';
import { pgliteTemplate } from '@agentrix/store/testing';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const childScript = fileURLToPath(new URL('./crash/commit-crash-child.ts', import.meta.url));
const AGENT = 'assistant';

/** Runs the child; with `killOn`, SIGKILLs it as soon as it prints that line. */
function runChild(env: Record<string, string>, killOn?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=agentrix-source', '--import', 'tsx', childScript], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
      if (killOn !== undefined && output.includes(`${killOn}\n`)) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errors = (errors + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const expected = killOn === undefined ? code === 0 : signal === 'SIGKILL' && output.includes(`${killOn}\n`);
      if (expected) resolve(output);
      else reject(new Error(`child ended with code ${code}, signal ${signal}:\n${output}\n${errors}`));
    });
  });
}

interface Observed {
  /** Episode ids by message id. */
  episodes: Record<string, string[]>;
  facts: number;
  contextMessages: string[];
  turns: number;
  inbox: { unread: number; inFlight: number; deadLetters: number };
  /** Replies the collector got, by the message they answer. */
  replies: Record<string, number>;
}

async function observe(url: string, schema: string | undefined): Promise<Observed> {
  const consumer = 'observer';
  await using store = await createAgentrixStore({ url, ...(schema ? { schema } : {}), consumer, vector: 'off' });
  const rows = await sql<{ id: string; message_id: string }>`select id, message_id from memory_episodes
    order by created_at, id`.execute(store.database.kysely);
  const episodes: Record<string, string[]> = {};
  for (const row of rows.rows) episodes[row.message_id] = [...(episodes[row.message_id] ?? []), row.id];
  const facts = await sql<{ n: unknown }>`select count(*) as n from memory_facts
    where key = 'user.favourite_color'`.execute(store.database.kysely);
  const context = await store.contexts.load(AGENT, DEFAULT_THREAD);
  // Peek at the collector's inbox without consuming it: read, count, give back.
  const replies: Record<string, number> = {};
  const deliveries = await store.bus.read('collector', { max: 100, blockMs: 0 });
  for (const delivery of deliveries) {
    const id = delivery.envelope.inReplyTo ?? '?';
    replies[id] = (replies[id] ?? 0) + 1;
  }
  await store.bus.releaseConsumer('collector', consumer);
  return {
    episodes,
    facts: Number(facts.rows[0]?.n),
    contextMessages: context?.messages.map((message) => `${message.role}: ${message.content}`) ?? [],
    turns: context?.turns ?? 0,
    inbox: await store.bus.stats(AGENT),
    replies,
  };
}

async function crashAfterMemory(url: string, schema: string | undefined): Promise<void> {
  {
    await using store = await createAgentrixStore({ url, ...(schema ? { schema } : {}), vector: 'off' });
    for (const [id, content] of [
      ['m-1', 'My favourite colour is teal.'],
      ['m-2', 'What is my favourite colour?'],
    ] as const) {
      await store.bus.send({ id, from: 'host', to: AGENT, replyTo: 'collector', content });
    }
  }
  const env = { COMMIT_DATABASE_URL: url, COMMIT_SCHEMA: schema ?? '' };
  await runChild({ ...env, COMMIT_BLOCK: '1' }, 'COMMITTED m-1');

  const killed = await observe(url, schema);
  // Memory wrote the episode (and its fact) in the commit; the context and the ack never happened.
  expect(Object.keys(killed.episodes)).toEqual(['m-1']);
  expect(killed.episodes['m-1']).toHaveLength(1);
  expect(killed.facts).toBe(1);
  expect(killed.turns).toBe(0);
  expect(killed.inbox.unread + killed.inbox.inFlight).toBe(2);
  expect(killed.replies).toEqual({ 'm-1': 1 });

  const output = await runChild(env);
  // The episode of m-1 was there: only m-2 was summarized.
  expect(output).toContain('SUMMARIES 1\n');
  const restarted = await observe(url, schema);
  expect(restarted.episodes).toEqual({ 'm-1': killed.episodes['m-1'], 'm-2': [expect.any(String)] });
  expect(restarted.facts).toBe(1);
  expect(restarted.turns).toBe(2);
  expect(restarted.contextMessages).toEqual([
    'user: My favourite colour is teal.',
    'assistant: answer: My favourite colour is teal.',
    'user: What is my favourite colour?',
    'assistant: answer: What is my favourite colour?',
  ]);
  expect(restarted.inbox).toEqual({ unread: 0, inFlight: 0, deadLetters: 0 });
  // Answered at least once each (m-1 by both processes: its first reply went out before the kill).
  expect(restarted.replies['m-1']).toBeGreaterThanOrEqual(1);
  expect(restarted.replies['m-2']).toBe(1);
}

describe('memory before ack: SIGKILL between the episode write and the context save', () => {
  it('loses nothing and records the episode once on PGlite (on disk)', async () => {
    const directory = path.join(os.tmpdir(), `agentrix-memory-commit-${randomUUID()}`);
    // A copy of an initdb'd directory: a fresh initdb takes ~10 s here.
    await cp(await pgliteTemplate(), directory, { recursive: true });
    await rm(path.join(directory, 'READY'));
    try {
      await crashAfterMemory(directory, undefined);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 120_000);

  it.skipIf(!process.env.DATABASE_URL)(
    'loses nothing and records the episode once on Postgres',
    async () => {
      const url = process.env.DATABASE_URL!;
      const schema = `memory_commit_${randomUUID().replaceAll('-', '')}`;
      try {
        await crashAfterMemory(url, schema);
      } finally {
        await using store = await createAgentrixStore({ url, schema, vector: 'off' });
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.database.kysely);
      }
    },
    120_000,
  );
});
