import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireRedisUrl } from '@agentrix/bus/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { runDistributed } from './distributed.js';

describe('distributed example', () => {
  afterAll(() => {
    const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));
    const processes = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
    expect(processes.split('\n').filter((line) => line.includes(worker))).toEqual([]);
  });

  it('answers every question once, from whichever of the two worker processes took it', async () => {
    const result = await runDistributed({ url: requireRedisUrl(), messages: 40, output: 'ignore' });
    expect(result.answers).toHaveLength(40);
    for (let index = 1; index <= 40; index++) {
      expect(result.answers.filter((answer) => answer.endsWith(`answered: question ${index}`))).toHaveLength(1);
    }
    expect(Object.keys(result.byWorker).every((worker) => worker === 'worker-a' || worker === 'worker-b')).toBe(true);
    expect((result.byWorker['worker-a'] ?? 0) + (result.byWorker['worker-b'] ?? 0)).toBe(40);
  }, 60_000);
});
