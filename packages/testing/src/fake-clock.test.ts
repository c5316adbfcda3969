import { AgentrixError, sleep } from '@agentrix/core';
import { describe, expect, it } from 'vitest';
import { FakeClock } from './fake-clock.js';

describe('FakeClock', () => {
  it('starts at the given time and moves only when told', async () => {
    expect(new FakeClock().now()).toBe(0);
    const clock = new FakeClock(1_000);
    expect(clock.now()).toBe(1_000);
    await clock.advance(250);
    expect(clock.now()).toBe(1_250);
    clock.set(5_000);
    expect(clock.now()).toBe(5_000);
  });

  it('fires timers in due order, equal due times in insertion order, each at its due time', async () => {
    const clock = new FakeClock(100);
    const fired: string[] = [];
    const record = (label: string) => () => fired.push(`${label}@${clock.now()}`);
    clock.setTimeout(record('c'), 30);
    clock.setTimeout(record('a1'), 10);
    clock.setTimeout(record('b'), 20);
    clock.setTimeout(record('a2'), 10);
    clock.setTimeout(record('zero'), 0);
    clock.setTimeout(record('late'), 31);
    expect(clock.pendingTimers).toBe(6);
    expect(clock.nextTimerAt).toBe(100);
    await clock.advance(30);
    expect(fired).toEqual(['zero@100', 'a1@110', 'a2@110', 'b@120', 'c@130']);
    expect(clock.now()).toBe(130);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt).toBe(131);
  });

  it('does not fire a timer before its due time', async () => {
    const clock = new FakeClock();
    let fired = false;
    clock.setTimeout(() => {
      fired = true;
    }, 100);
    await clock.advance(99);
    expect(fired).toBe(false);
    await clock.advance(1);
    expect(fired).toBe(true);
  });

  it('fires timers scheduled by promise chains that started in a timer, within the window', async () => {
    const clock = new FakeClock();
    const log: number[] = [];
    const loop = async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(100, { clock });
        await Promise.resolve();
        await Promise.resolve();
        log.push(clock.now());
      }
    };
    const done = loop();
    await clock.advance(300);
    await done;
    expect(log).toEqual([100, 200, 300]);
    expect(clock.now()).toBe(300);
  });

  it('leaves a chained timer that falls due after the window pending', async () => {
    const clock = new FakeClock();
    const log: number[] = [];
    clock.setTimeout(() => {
      void Promise.resolve().then(() => {
        clock.setTimeout(() => log.push(clock.now()), 100);
      });
    }, 50);
    await clock.advance(100);
    expect(log).toEqual([]);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(50);
    expect(log).toEqual([150]);
  });

  it('clearTimeout cancels a pending timer and ignores fired or foreign handles', async () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    const keep = clock.setTimeout(() => fired.push('keep'), 10);
    const cancel = clock.setTimeout(() => fired.push('cancel'), 10);
    clock.clearTimeout(cancel);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(10);
    expect(fired).toEqual(['keep']);
    clock.clearTimeout(keep);
    clock.clearTimeout(cancel);
    clock.clearTimeout(undefined);
    clock.clearTimeout(42);
    clock.clearTimeout(new FakeClock().setTimeout(() => {}, 1));
    expect(clock.pendingTimers).toBe(0);
  });

  it('aborting a sleep on the fake clock clears its timer', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const waiting = sleep(1_000, { clock, signal: controller.signal });
    expect(clock.pendingTimers).toBe(1);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    expect(clock.pendingTimers).toBe(0);
  });

  it('set jumps without firing; due timers fire at the next advance without moving time back', async () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 100);
    clock.set(500);
    expect(fired).toEqual([]);
    await clock.advance(0);
    expect(fired).toEqual([500]);
    expect(clock.now()).toBe(500);
  });

  it('runAll fires every timer, including ones scheduled on the way, and advances time', async () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 1_000);
    }, 50);
    clock.setTimeout(() => fired.push(clock.now()), 10);
    await clock.runAll();
    expect(fired).toEqual([10, 50, 1_050]);
    expect(clock.now()).toBe(1_050);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runAll throws after the limit when a timer reschedules itself forever', async () => {
    const clock = new FakeClock();
    let ticks = 0;
    const tick = () => {
      ticks++;
      clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    const error = await clock.runAll(50).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(AgentrixError.isInstance(error)).toBe(true);
    expect((error as AgentrixError).message).toContain('50 timers');
    expect(ticks).toBe(50);
    expect(clock.now()).toBe(500);
    expect(clock.pendingTimers).toBe(1);
  });

  it('rejects a negative or non-finite advance', async () => {
    const clock = new FakeClock();
    await expect(clock.advance(-1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(clock.advance(Number.NaN)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => clock.set(Number.POSITIVE_INFINITY)).toThrow(AgentrixError);
  });

  it('a throwing callback rejects advance and leaves later timers pending', async () => {
    const clock = new FakeClock();
    clock.setTimeout(() => {
      throw new Error('bad timer');
    }, 10);
    clock.setTimeout(() => {}, 20);
    await expect(clock.advance(100)).rejects.toThrow('bad timer');
    expect(clock.now()).toBe(10);
    expect(clock.pendingTimers).toBe(1);
  });
});
