import { describe, expect, it } from 'vitest';
import { AgentPool } from './agent-pool.js';

describe('AgentPool', () => {
  it('caps concurrent holders and serves waiters first come, first served', async () => {
    const pool = new AgentPool({ maxConcurrentTurns: 2 });
    expect(pool.acquire()).toBeUndefined();
    expect(pool.acquire()).toBeUndefined();
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => pool.acquire()?.then(() => order.push(n)));
    expect(pool.waiting).toBe(3);
    pool.release();
    pool.release();
    await Promise.all(waits.slice(0, 2));
    expect(order).toEqual([1, 2]);
    expect(pool.active).toBe(2);
    pool.release();
    await waits[2];
    expect(order).toEqual([1, 2, 3]);
    pool.release();
    pool.release();
    expect(pool.active).toBe(0);
  });

  it('drops a waiter whose signal aborts', async () => {
    const pool = new AgentPool({ maxConcurrentTurns: 1 });
    pool.acquire();
    const controller = new AbortController();
    const aborted = pool.acquire(controller.signal);
    const next = pool.acquire();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    expect(pool.waiting).toBe(1);
    pool.release();
    await next;
    expect(pool.active).toBe(1);
  });

  it('rejects an invalid cap', () => {
    expect(() => new AgentPool({ maxConcurrentTurns: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
