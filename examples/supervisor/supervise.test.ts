import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runBrokenWorker, runFlakyWorker } from './supervise.js';

describe('supervisor example', () => {
  afterAll(() => {
    const worker = fileURLToPath(new URL('./flaky-worker.ts', import.meta.url));
    const processes = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
    expect(processes.split('\n').filter((line) => line.includes(worker))).toEqual([]);
  });

  it('restarts a flaky worker after each crash, then stops it gracefully', async () => {
    const lines: string[] = [];
    const result = await runFlakyWorker({
      log: (line) => lines.push(line),
      output: 'ignore',
      crashes: 2,
      crashAfterMs: 150,
    });
    expect(result).toEqual({ starts: 3, crashes: 2 });
    expect(lines.filter((line) => line.startsWith('restarting flaky'))).toEqual([
      'restarting flaky in 100 ms',
      'restarting flaky in 200 ms',
    ]);
    expect(lines.at(-1)).toBe('stopped flaky (requested)');
  });

  it('stops restarting a broken worker and calls the rollback hook', async () => {
    const lines: string[] = [];
    const event = await runBrokenWorker({ log: (line) => lines.push(line), output: 'ignore' });
    expect(event).toMatchObject({ worker: 'flaky', crashes: 3, lastExit: { code: 1, signal: null } });
    expect(lines).toContain('rollback hook: rolling flaky back to the previous release');
  });
});
