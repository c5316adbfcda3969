import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { requireRedisUrl } from './redis-test-support.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const script = fileURLToPath(new URL('./bus-lifetime-script.ts', import.meta.url));
/** Far longer than any exit takes; a handle left open (a sweep timer, a socket) holds the process past it. */
const EXIT_GRACE_MS = 5_000;

interface Run {
  code: number | null;
  output: string;
  /** From the script's last line to the process's exit; undefined when it never got there. */
  exitAfterCloseMs: number | undefined;
  killed: boolean;
}

function runScript(kind: 'memory' | 'redis'): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=agentrix-source', '--import', 'tsx', script, kind], {
      cwd: repoRoot,
      env: {
        ...process.env,
        REDIS_URL: kind === 'redis' ? requireRedisUrl() : '',
        BUS_NAMESPACE: `test-${randomUUID()}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let closedAt: number | undefined;
    let killed = false;
    const deadline = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, 30_000);
    let grace: ReturnType<typeof setTimeout> | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
      if (closedAt === undefined && output.includes('closed\n')) {
        closedAt = Date.now();
        grace = setTimeout(() => {
          killed = true;
          child.kill('SIGKILL');
        }, EXIT_GRACE_MS);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(deadline);
      clearTimeout(grace);
      resolve({ code, output, killed, exitAfterCloseMs: closedAt === undefined ? undefined : Date.now() - closedAt });
    });
  });
}

describe('a plain script using a bus (issue 12, timers)', () => {
  for (const kind of ['memory', 'redis'] as const) {
    it(`${kind}: stays alive through a blocked read with blockMs, and exits on its own once the bus is closed`, async () => {
      const run = await runScript(kind);
      expect(run.output).toMatch(/blocked read returned 0 deliveries after \d+ ms\nclosed\n/);
      expect(run.killed).toBe(false);
      expect(run.code).toBe(0);
      expect(run.exitAfterCloseMs).toBeLessThan(EXIT_GRACE_MS);
    });
  }
});
