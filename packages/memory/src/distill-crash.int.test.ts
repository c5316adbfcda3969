// Distillation runs beside turns and may die with its process at any point: a host SIGKILLed
// while the model distils a session loses nothing. The sessions stored before stay, the one in
// flight left no trace, and the restarted host distils the rest, each session once. Postgres
// only (DATABASE_URL): the transaction that stores a session and moves the cursor is the
// database's, the same on PGlite, where an on-disk copy costs ~20 s here.
import { fileURLToPath } from 'node:url';
import { createAgentrixStore } from '@agentrix/store';
import { onPostgresSchema, runScriptChild } from '@agentrix/store/testing';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { createMemory } from './memory.js';

const childScript = fileURLToPath(new URL('./crash/distill-crash-child.ts', import.meta.url));
const HOUR = 3_600_000;

it.skipIf(!process.env.DATABASE_URL)(
  'SIGKILL in the middle of a distillation: nothing lost, each session distilled once after restart',
  async () => {
    const url = process.env.DATABASE_URL!;
    const userId = 'ana';
    await onPostgresSchema(url, 'memory_distill', async (schema) => {
      await using store = await createAgentrixStore({ url, schema, vector: 'off' });
      const memory = await createMemory({ database: store.database });
      // Three sessions, hours apart.
      const start = Date.UTC(2023, 4, 8, 10);
      for (const [session, texts] of [
        ['one', 'two'],
        ['three', 'four'],
        ['five', 'six'],
      ].entries()) {
        for (const [index, text] of texts.entries()) {
          await memory.recordEpisode({
            scope: { userId },
            occurredAt: start + session * 5 * HOUR + index * 60_000,
            messages: [{ role: 'user', name: 'Ana', content: `turn ${text}` }],
          });
        }
      }
      const facts = async () =>
        (
          await sql<{ key: string; text: string; tags: string[] }>`select key, text, tags from memory_facts
            where user_id = ${userId}`.execute(store.database.kysely)
        ).rows
          .map((fact) => fact.text)
          .sort();
      const env = { DISTILL_DATABASE_URL: url, DISTILL_SCHEMA: schema, DISTILL_USER: userId };

      const crash = await runScriptChild(childScript, { env: { ...env, DISTILL_BLOCK: '1' }, killOn: 'DISTILLING 2' });
      expect(crash.killed).toBe(true);
      // The first session is stored, the second (in flight) left nothing.
      expect(await facts()).toEqual(['Ana: turn one', '[2023-05-08 Mon] They talked: Ana: turn one']);

      const { output } = await runScriptChild(childScript, { env });
      // Two calls: the first session was not asked again.
      expect(output).toContain('SESSIONS 2 CALLS 2\n');
      expect(await facts()).toEqual([
        'Ana: turn five',
        'Ana: turn one',
        'Ana: turn three',
        '[2023-05-08 Mon] They talked: Ana: turn five',
        '[2023-05-08 Mon] They talked: Ana: turn one',
        '[2023-05-08 Mon] They talked: Ana: turn three',
      ]);
    });
  },
  120_000,
);
