import { AgentrixError } from '@agentrix/core';
import { FakeClock } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';
import { addWaiter, closeFailure, type InboxWaiter, releaseWaiters, removeWaiter } from './blocked-reads.js';

interface Box {
  readonly waiters: Array<InboxWaiter<Box>>;
}

describe('blocked reads', () => {
  it('queues a read, resolves it with [] when blockMs passes, and takes it out of its inbox once', async () => {
    const clock = new FakeClock(0);
    const box: Box = { waiters: [] };
    let leaves = 0;
    const leave = (waiter: InboxWaiter<Box>) => {
      leaves++;
      return removeWaiter(box.waiters, waiter);
    };
    const read = addWaiter(box, box.waiters, { consumer: 'c', max: 2, blockMs: 100, signal: undefined }, clock, leave);
    expect(box.waiters).toHaveLength(1);
    expect(box.waiters[0]).toMatchObject({ consumer: 'c', max: 2, active: true, box });
    const waiter = box.waiters[0]!;
    await clock.advance(100);
    await expect(read).resolves.toEqual([]);
    expect(box.waiters).toHaveLength(0);
    expect(waiter.active).toBe(false);
    expect(leaves).toBe(1);
    expect(removeWaiter(box.waiters, waiter)).toBe(false);
  });

  it('rejects with ABORTED when the signal fires, and releases every read with [] on close', async () => {
    const clock = new FakeClock(0);
    const box: Box = { waiters: [] };
    const leave = (waiter: InboxWaiter<Box>) => removeWaiter(box.waiters, waiter);
    const controller = new AbortController();
    const aborted = addWaiter(
      box,
      box.waiters,
      { consumer: 'a', max: 1, blockMs: undefined, signal: controller.signal },
      clock,
      leave,
    );
    const released = addWaiter(
      box,
      box.waiters,
      { consumer: 'b', max: 1, blockMs: 1_000, signal: undefined },
      clock,
      leave,
    );
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    const failures: unknown[] = [];
    releaseWaiters(box.waiters, clock, failures);
    await expect(released).resolves.toEqual([]);
    expect(failures).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('turns cleanup failures of close() into one INTERNAL error naming the bus', () => {
    expect(closeFailure('SomeBus', [])).toBeUndefined();
    const one = closeFailure('SomeBus', [new Error('a')]);
    expect(AgentrixError.isInstance(one)).toBe(true);
    expect(one).toMatchObject({ code: 'INTERNAL', message: 'SomeBus closed with 1 cleanup error(s)' });
    expect(closeFailure('SomeBus', [new Error('a'), new Error('b')])).toMatchObject({
      message: 'SomeBus closed with 2 cleanup error(s)',
      cause: { name: 'AggregateError' },
    });
  });
});
