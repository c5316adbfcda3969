// Memory is part of the turn's commit: a host SIGKILLed after memory wrote a turn's episode and
// before the turn's context was saved and its message acked loses nothing. The restarted host
// answers the redelivered message, records no second episode, and keeps the turn once in the
// context. Runs on PGlite (on disk) always and on Postgres when DATABASE_URL is set.
import { fileURLToPath } from 'node:url';
import { DEFAULT_THREAD } from '@agentrix/core';
import { createAgentrixStore } from '@agentrix/store';
import { onPgliteDirectory, onPostgresSchema, runScriptChild } from '@agentrix/store/testing';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

const childScript = fileURLToPath(new URL('./crash/commit-crash-child.ts', import.meta.url));
const AGENT = 'assistant';

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
  const crash = await runScriptChild(childScript, { env: { ...env, COMMIT_BLOCK: '1' }, killOn: 'COMMITTED m-1' });
  expect(crash.killed).toBe(true);

  const killed = await observe(url, schema);
  // Memory wrote the episode (and its fact) in the commit; the context and the ack never happened.
  expect(Object.keys(killed.episodes)).toEqual(['m-1']);
  expect(killed.episodes['m-1']).toHaveLength(1);
  expect(killed.facts).toBe(1);
  expect(killed.turns).toBe(0);
  expect(killed.inbox.unread + killed.inbox.inFlight).toBe(2);
  expect(killed.replies).toEqual({ 'm-1': 1 });

  const { output } = await runScriptChild(childScript, { env });
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
    await onPgliteDirectory('memory-commit', (directory) => crashAfterMemory(directory, undefined));
  }, 120_000);

  it.skipIf(!process.env.DATABASE_URL)(
    'loses nothing and records the episode once on Postgres',
    async () => {
      const url = process.env.DATABASE_URL!;
      await onPostgresSchema(url, 'memory_commit', (schema) => crashAfterMemory(url, schema));
    },
    120_000,
  );
});
