import { describe, expect, it } from 'vitest';
import { RedisBatcher } from './redis-batcher.js';

describe('RedisBatcher', () => {
  it('runs a batch as soon as it is full, and what is left at the end of the turn', async () => {
    const runs: number[][] = [];
    const batcher = new RedisBatcher<number, number>(3, async (items) => {
      runs.push([...items]);
      return items.map((item) => item * 10);
    });
    const results = [1, 2, 3, 4, 5].map((item) => batcher.add(item));
    // The first three went to Redis with the third add, before this turn ended.
    expect(runs).toEqual([[1, 2, 3]]);
    expect(await Promise.all(results)).toEqual([10, 20, 30, 40, 50]);
    expect(runs).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('rejects only the items whose result is an error, through mapError', async () => {
    const batcher = new RedisBatcher<number, number>(
      10,
      async (items) => items.map((item) => (item === 2 ? new Error('refused') : item)),
      (error, item) => new Error(`${item}: ${(error as Error).message}`),
    );
    const outcomes = await Promise.allSettled([1, 2, 3].map((item) => batcher.add(item)));
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'rejected', reason: new Error('2: refused') },
      { status: 'fulfilled', value: 3 },
    ]);
  });
});
