// No silent exit (issue 12, item 1): a plain host script with nothing else keeping Node alive
// finishes every call it awaits, in a child process. And a reconnect loop nobody awaits does not
// keep a process alive.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, type HttpServerProcess, startEverythingHttp } from './mcp/test-servers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a fixture script as `node --conditions=agentrix-source --import tsx` and resolves when it
 * exits; `onLine` sees each line it prints. Killed (and reported) after 60 s.
 */
function runScript(script: string, env: Record<string, string>, onLine?: (line: string) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=agentrix-source', '--import', 'tsx', fixture(script)], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine?.(line);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not exit within 60 s:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('a plain host script finishes the calls it awaits', () => {
  const servers: HttpServerProcess[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });

  it('waits out the SkillExecutor retry backoff and prints the result', async () => {
    const exit = await runScript('retry-once.ts', {});
    expect(exit.stderr).toBe('');
    expect(exit).toMatchObject({ code: 0, stdout: 'RESULT ok after 2 attempts\n' });
  });

  it('keeps an MCP call waiting for the reconnect alive until the server is back', async () => {
    const port = await freePort();
    servers.push(await startEverythingHttp('streamableHttp', port));
    let stopped: Promise<void> | undefined;
    let restarted: Promise<void> | undefined;
    const exit = await runScript('mcp-call-during-reconnect.ts', { MCP_URL: servers[0]!.url, THEN: 'call' }, (line) => {
      // Stop the server once the script is connected; start it again once a call waits for it.
      if (line.startsWith('READY')) stopped = servers.pop()!.stop();
      if (line.startsWith('WAITING')) {
        restarted = (async () => {
          await stopped;
          servers.push(await startEverythingHttp('streamableHttp', port));
        })();
      }
    });
    await restarted;
    expect(exit.stdout, exit.stderr).toBe('READY Echo: one\nDROPPED\nWAITING reconnecting\nRESULT Echo: two\n');
    expect(exit.code).toBe(0);
  });

  it('lets a script end while the reconnect loop of a forgotten manager still runs', async () => {
    const port = await freePort();
    servers.push(await startEverythingHttp('streamableHttp', port));
    let stopped: Promise<void> | undefined;
    const exit = await runScript(
      'mcp-call-during-reconnect.ts',
      { MCP_URL: servers[0]!.url, THEN: 'forget' },
      (line) => {
        if (line.startsWith('READY')) stopped = servers.pop()!.stop();
      },
    );
    await stopped;
    expect(exit.stdout, exit.stderr).toBe('READY Echo: one\nDROPPED\n');
    expect(exit.code).toBe(0);
  });
});
