// Distillation runs beside turns and may die with its process at any point: a host SIGKILLed
// while the model distils a session loses nothing. The sessions stored before stay, the one in
// flight left no trace, and the restarted host distils the rest, each session once. Postgres
// only (DATABASE_URL): the transaction that stores a session and moves the cursor is the
// database's, the same on PGlite, where an on-disk copy costs ~20 s here.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAgentrixStore } from '@agentrix/store';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { createMemory } from './memory.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const childScript = fileURLToPath(new URL('./crash/distill-crash-child.ts', import.meta.url));
const HOUR = 3_600_000;

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

it.skipIf(!process.env.DATABASE_URL)(
  'SIGKILL in the middle of a distillation: nothing lost, each session distilled once after restart',
  async () => {
    const url = process.env.DATABASE_URL!;
    const schema = `memory_distill_${randomUUID().replaceAll('-', '')}`;
    const userId = 'ana';
    try {
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

      await runChild({ ...env, DISTILL_BLOCK: '1' }, 'DISTILLING 2');
      // The first session is stored, the second (in flight) left nothing.
      expect(await facts()).toEqual(['Ana: turn one', '[2023-05-08 Mon] They talked: Ana: turn one']);

      const output = await runChild(env);
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
    } finally {
      await using store = await createAgentrixStore({ url, schema, vector: 'off' });
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.database.kysely);
    }
  },
  120_000,
);
