import { FakeClock } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';
import { InboxTimer } from './inbox-timer.js';

function timer(clock: FakeClock, options?: { lateMs?: number }) {
  const fired: number[] = [];
  return { fired, timer: new InboxTimer(clock, () => fired.push(clock.now()), options) };
}

describe('InboxTimer', () => {
  it('armAt keeps the earliest time and fires once', async () => {
    const clock = new FakeClock(1_000);
    const { fired, timer: t } = timer(clock);
    t.armAt(1_200);
    t.armAt(1_500); // later: ignored
    expect(clock.nextTimerAt).toBe(1_200);
    t.armAt(1_100); // earlier: replaces
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1_000);
    expect(fired).toEqual([1_100]);
    expect(t.armed).toBe(false);
  });

  it('armIn replaces an armed timer; a negative delay only disarms', async () => {
    const clock = new FakeClock(0);
    const { fired, timer: t } = timer(clock);
    t.armIn(50);
    t.armIn(500);
    expect(clock.nextTimerAt).toBe(500);
    t.armIn(-1);
    expect(t.armed).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(1_000);
    expect(fired).toEqual([]);
  });

  it('fires lateMs after the time asked for, and not at all once cleared', async () => {
    const clock = new FakeClock(0);
    const { fired, timer: t } = timer(clock, { lateMs: 1 });
    t.armAt(100);
    expect(clock.nextTimerAt).toBe(101);
    await clock.advance(101);
    expect(fired).toEqual([101]);
    t.armAt(300);
    t.clear();
    await clock.advance(1_000);
    expect(fired).toEqual([101]);
  });
});
