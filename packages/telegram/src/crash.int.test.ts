// A crash between receiving an update and answering it: the answer comes exactly once after
// the restart. The child process is SIGKILLed in the middle of streaming its answer (an edit of
// the partial message on its way); a second child on the same store finishes the job.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAgentrixStore } from '@agentrix/store';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testToken } from './test-support.js';
import { FakeBotApi } from './testing/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const childScript = fileURLToPath(new URL('./crash/crash-child.ts', import.meta.url));

let fake: FakeBotApi;
beforeAll(async () => {
  fake = await FakeBotApi.start();
});
afterAll(() => fake.close());

/** Runs the child until it exits; `onLine` sees each line it prints and can kill it. */
function runChild(
  env: Record<string, string>,
  onLine: (line: string, child: ReturnType<typeof spawn>) => void = () => {},
) {
  return new Promise<{ code: number | null; signal: string | null; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=agentrix-source', '--import', 'tsx', childScript], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (output + chunk).split('\n');
      for (const line of lines.slice(output.split('\n').length - 1, -1)) onLine(line, child);
      output += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errors = (errors + chunk).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 && signal !== 'SIGKILL') reject(new Error(`child failed (${code}): ${errors}`));
      else resolve({ code, signal, output });
    });
  });
}

const ANSWER = Array.from({ length: 25 }, (_, index) => `word${index}`).join(' ');

async function crashThenRestart(url: string, schema: string | undefined) {
  const token = testToken(7000 + Math.floor(Math.random() * 1e5));
  const env = {
    TG_STORE_URL: url,
    TG_SCHEMA: schema ?? '',
    TG_TOKEN: token,
    TG_API_ROOT: fake.apiRoot,
    TG_ANSWER: ANSWER,
  };
  const first = await runChild(env, (line, child) => {
    if (line !== 'READY') return;
    void (async () => {
      await fake.sendText(token, 'hello?', { chatId: 7 });
      // Killed as the first edit of the streamed answer reaches Telegram.
      await fake.waitFor(() => fake.callsOf(token, 'editMessageText', 7).length > 0, 20_000);
      child.kill('SIGKILL');
    })();
  });
  expect(first.signal).toBe('SIGKILL');
  const shown = fake.messages(token, 7);
  expect(shown).toHaveLength(1); // the partial answer, never finished
  expect(shown[0]?.text).toMatch(/^word0 .* …$/);
  expect(shown[0]?.text).not.toBe(ANSWER);

  const second = await runChild(env);
  expect(second.code).toBe(0);
  const texts = fake.messages(token, 7).map((message) => message.text);
  // One message: the partial answer shown before the crash, edited into the whole answer.
  expect(texts).toEqual([ANSWER]);
  expect(fake.callsOf(token, 'sendMessage', 7)).toHaveLength(1);
  const stats = JSON.parse(second.output.split('DONE ')[1] as string);
  expect(stats).toMatchObject({ answered: 1, deadLettered: 0 });
}

describe('a crash between receiving and answering', () => {
  // On Postgres when DATABASE_URL is set (as in CI); else on a PGlite directory, which costs ~8 s
  // more (each child creates or opens the embedded database: 8.2 s and 3.2 s measured here).
  const url = process.env.DATABASE_URL;
  it(`answers exactly once after the restart (${url ? 'Postgres' : 'PGlite directory'})`, async () => {
    if (url !== undefined) {
      const schema = `telegram_crash_${randomUUID().replaceAll('-', '')}`;
      try {
        await crashThenRestart(url, schema);
      } finally {
        await using store = await createAgentrixStore({ url, schema });
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.database.kysely);
      }
      return;
    }
    const directory = await mkdtemp(path.join(os.tmpdir(), 'agentrix-telegram-crash-'));
    try {
      await crashThenRestart(directory, undefined);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
