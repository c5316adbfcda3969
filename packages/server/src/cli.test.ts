import { type ChildProcessByStdio, spawn } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseArguments, tokensFromEnvironment } from './cli.js';

// The CLI as a user runs it: a child process on the workspace's sources, stopped with SIGTERM.
const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, 'cli-main.ts');
const host = path.join(here, 'fixtures', 'host.ts');
const TOKEN = 'cli-admin-token-0123456789abcdef';

const children: ChildProcessByStdio<null, Readable, Readable>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function start(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--conditions=agentrix-source', '--import', 'tsx', cli, ...args], {
    cwd: path.resolve(here, '../../..'),
    env: { ...process.env, AGENTRIX_ADMIN_TOKEN: '', AGENTRIX_OPERATE_TOKEN: '', AGENTRIX_READ_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line in 30 s: ${stdout} ${stderr}`)), 30_000);
    child.stdout.on('data', () => {
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited before listening: ${stderr}`));
    });
  });
  listening.catch(() => {}); // awaited by the tests that expect it
  return { child, listening, exited, output: () => ({ stdout, stderr }) };
}

describe('agentrix CLI', () => {
  it('dev: serves the host module with the console on loopback; SIGTERM stops it cleanly and frees the port', async () => {
    const run = start(['dev', host, '--port', '0']);
    const url = await run.listening;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const agents = await (await fetch(`${url}/api/agents`)).json();
    expect(agents.agents.map((agent: { id: string }) => agent.id)).toEqual(['greeter']);
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output().stdout).toContain('agentrix: stopped');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 60_000);

  it('serve: refuses to start without a token, and with one refuses requests without it', async () => {
    const refused = start(['serve', host, '--port', '0', '--host', '127.0.0.1']);
    expect(await refused.exited).toBe(1);
    expect(refused.output().stderr).toContain('INVALID_ARGUMENT: agentrix serve needs a token');

    const run = start(['serve', host, '--port', '0', '--host', '127.0.0.1', '--no-console'], {
      AGENTRIX_ADMIN_TOKEN: TOKEN,
    });
    const url = await run.listening;
    expect((await fetch(`${url}/api/agents`)).status).toBe(401);
    const answer = await fetch(`${url}/api/agents/greeter/ask`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ content: 'hi' }),
    });
    expect((await answer.json()).reply.content).toBe('hello from the host');
    expect((await fetch(`${url}/`)).status).toBe(404);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output().stdout + run.output().stderr).not.toContain(TOKEN);
  }, 60_000);

  it('parses its arguments: dev stays on loopback, bad flags are INVALID_ARGUMENT', () => {
    expect(parseArguments(['dev', 'host.ts'])).toEqual({
      command: 'dev',
      file: 'host.ts',
      port: 4111,
      host: '127.0.0.1',
      console: true,
    });
    expect(parseArguments(['serve', 'host.js', '--port', '0', '--no-console'])).toMatchObject({
      host: '0.0.0.0',
      port: 0,
      console: false,
    });
    for (const argv of [
      ['dev', 'host.ts', '--host', '0.0.0.0'],
      ['dev'],
      ['start', 'host.ts'],
      ['dev', 'host.ts', '--port', 'x'],
      ['dev', 'host.ts', '--verbose'],
    ]) {
      expect(() => parseArguments(argv)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(tokensFromEnvironment({ AGENTRIX_READ_TOKEN: 'r'.repeat(16) })).toEqual([
      { token: 'r'.repeat(16), scope: 'read', name: 'read' },
    ]);
  });
});
