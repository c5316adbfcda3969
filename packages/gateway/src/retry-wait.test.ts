// The gateway's wait after a 429 keeps a plain script alive: a child process whose only pending
// work is that wait must still print the answer and exit 0 (with an unref'd timer it exits 13,
// "unsettled top-level await", in the middle of the call).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type FixtureServer, startFixtureServer } from './test-support/openai-fixture-server.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const childScript = fileURLToPath(new URL('./test-support/retry-after-child.ts', import.meta.url));

function runChild(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=agentrix-source', '--import', 'tsx', childScript], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('a plain script awaiting a gateway call', () => {
  let server: FixtureServer;
  beforeAll(async () => {
    server = await startFixtureServer(() =>
      server.requests.length === 1
        ? {
            status: 429,
            // `connection: close`: no idle keep-alive socket is left to hold the child open meanwhile.
            headers: { 'retry-after': '1', connection: 'close' },
            json: { error: { message: 'slow down', type: 'rate_limit_error', code: null } },
          }
        : { json: completion('fine after the wait', { prompt_tokens: 8, completion_tokens: 4 }) },
    );
  });
  afterAll(async () => {
    await server.close();
  });

  it('stays alive through the 429 retry-after wait, prints the answer and exits 0', async () => {
    const result = await runChild({ FIXTURE_BASE_URL: server.baseURL });
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(result.stdout).toContain('ANSWER fine after the wait');
    expect(server.requests).toHaveLength(2);
  }, 30_000);
});
