import { FakeClock } from '@agentrix/testing';
import { describe, expect, it, vi } from 'vitest';
import { Deadlines } from './deadlines.js';

describe('Deadlines', () => {
  it('fires each deadline at its time, across durations, on one timer', async () => {
    const clock = new FakeClock(1_000);
    const deadlines = new Deadlines(clock);
    const fired: string[] = [];
    deadlines.add(300, () => fired.push(`300@${clock.now()}`));
    deadlines.add(100, () => fired.push(`100@${clock.now()}`));
    await clock.advance(50);
    deadlines.add(100, () => fired.push(`100b@${clock.now()}`));
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(49);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual(['100@1100']);
    await clock.advance(50);
    expect(fired).toEqual(['100@1100', '100b@1150']);
    await clock.advance(150);
    expect(fired).toEqual(['100@1100', '100b@1150', '300@1300']);
    expect(deadlines.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('counts from the time the caller read, when it passes one', async () => {
    const clock = new FakeClock(1_000);
    const deadlines = new Deadlines(clock);
    const fired: number[] = [];
    const readBefore = clock.now();
    await clock.advance(30);
    deadlines.add(100, () => fired.push(clock.now()), readBefore);
    await clock.advance(69);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([1_100]);
  });

  it('a cancelled deadline never fires; the timer goes when none is left (nothing keeps the process alive)', async () => {
    const clock = new FakeClock();
    const deadlines = new Deadlines(clock);
    const fired: number[] = [];
    const first = deadlines.add(100, () => fired.push(1));
    const second = deadlines.add(100, () => fired.push(2));
    const third = deadlines.add(200, () => fired.push(3));
    deadlines.cancel(first);
    deadlines.cancel(first);
    await clock.advance(100);
    expect(fired).toEqual([2]);
    deadlines.cancel(second);
    deadlines.cancel(third);
    expect(deadlines.size).toBe(0);
    await Promise.resolve(); // the timer is cleared once the microtasks queued so far have run
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(1_000);
    expect(fired).toEqual([2]);
  });

  it('keeps its timer for a deadline that comes back in the same microtasks, and clears it after', async () => {
    const clock = new FakeClock();
    const deadlines = new Deadlines(clock);
    const timers = vi.spyOn(clock, 'setTimeout');
    // One ask at a time: the reply queues the asker's next ask, then the turn ends (its deadline goes).
    let deadline = deadlines.add(100, () => {});
    for (let ask = 0; ask < 10; ask++) {
      const next = Promise.resolve().then(() => deadlines.add(100, () => {}));
      deadlines.cancel(deadline);
      deadline = await next;
    }
    deadlines.cancel(deadline);
    await Promise.resolve();
    expect(timers).toHaveBeenCalledTimes(1);
    expect(clock.pendingTimers).toBe(0);
    timers.mockRestore();
  });

  it('an earlier deadline re-arms the timer; a deadline added while others expire is kept', async () => {
    const clock = new FakeClock();
    const deadlines = new Deadlines(clock);
    const fired: string[] = [];
    deadlines.add(60_000, () => fired.push('long'));
    deadlines.add(10, () => {
      fired.push('short');
      deadlines.add(5, () => fired.push('chained'));
    });
    expect(clock.nextTimerAt).toBe(10);
    await clock.advance(15);
    expect(fired).toEqual(['short', 'chained']);
    expect(clock.nextTimerAt).toBe(60_000);
    await clock.advance(60_000);
    expect(fired).toEqual(['short', 'chained', 'long']);
  });

  it('many deadlines of one duration, cancelled out of order, leave nothing behind', async () => {
    const clock = new FakeClock();
    const deadlines = new Deadlines(clock);
    let fired = 0;
    const all = Array.from({ length: 1_000 }, () => deadlines.add(1_000, () => fired++));
    for (let index = 0; index < all.length; index += 2) deadlines.cancel(all[index]!);
    for (let index = all.length - 1; index > 0; index -= 4) deadlines.cancel(all[index]!);
    expect(deadlines.size).toBe(250);
    await clock.advance(1_000);
    expect(fired).toBe(250);
    expect(deadlines.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a deadline whose callback throws does not keep the others from firing', async () => {
    const clock = new FakeClock();
    const deadlines = new Deadlines(clock);
    const fired: number[] = [];
    const uncaught: unknown[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (callback) =>
      original(() => {
        try {
          callback();
        } catch (error) {
          uncaught.push(error);
        }
      });
    try {
      deadlines.add(10, () => {
        throw new Error('boom');
      });
      deadlines.add(10, () => fired.push(2));
      await clock.advance(10);
    } finally {
      globalThis.queueMicrotask = original;
    }
    expect(fired).toEqual([2]);
    expect(uncaught).toEqual([new Error('boom')]);
  });
});
