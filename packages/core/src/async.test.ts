import { describe, expect, it } from 'vitest';
import {
  armBlockedRead,
  type BlockedRead,
  settleBlockedRead,
  untilAborted,
  unwatchAbort,
  watchAbort,
} from './implement.js';
import {
  AgentrixError,
  abortError,
  BACKGROUND_TIMER,
  type Clock,
  createSequentialIds,
  type Delivery,
  randomId,
  sleep,
  systemClock,
  type TimerHandle,
  throwIfAborted,
} from './index.js';

/** A clock whose timers run when the test says, with the options each timer was created with. */
class StepClock implements Clock {
  time = 0;
  readonly timers = new Map<number, { due: number; callback: () => void; background: boolean }>();
  #next = 1;
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number, options?: { background?: boolean }): TimerHandle {
    const handle = this.#next++;
    this.timers.set(handle, { due: this.time + ms, callback, background: options?.background === true });
    return handle;
  }
  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    this.time += ms;
    for (const [handle, timer] of [...this.timers]) {
      if (timer.due > this.time) continue;
      this.timers.delete(handle);
      timer.callback();
    }
  }
}

const settled = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

describe('systemClock', () => {
  it('tells the wall time', () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('keeps the process alive for an awaited timer, not for a background one', () => {
    const awaited = systemClock.setTimeout(() => {}, 60_000) as NodeJS.Timeout;
    const background = systemClock.setTimeout(() => {}, 60_000, BACKGROUND_TIMER) as NodeJS.Timeout;
    expect(awaited.hasRef()).toBe(true);
    expect(background.hasRef()).toBe(false);
    systemClock.clearTimeout(awaited);
    systemClock.clearTimeout(background);
    expect(Object.isFrozen(BACKGROUND_TIMER)).toBe(true);
  });

  it('fires a timer once, and never after clearTimeout', async () => {
    const fired: string[] = [];
    systemClock.setTimeout(() => fired.push('kept'), 1);
    const cleared = systemClock.setTimeout(() => fired.push('cleared'), 1);
    systemClock.clearTimeout(cleared);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fired).toEqual(['kept']);
  });
});

describe('ids', () => {
  it('makes random v4 UUIDs', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => randomId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('makes sequential ids per generator, `id-` by default', () => {
    const first = createSequentialIds();
    const second = createSequentialIds();
    expect([first(), first(), second()]).toEqual(['id-1', 'id-2', 'id-1']);
  });
});

describe('sleep', () => {
  it('waits on the clock it is given, as an awaited timer unless background', async () => {
    const clock = new StepClock();
    let done = false;
    const waiting = sleep(1_000, { clock }).then(() => {
      done = true;
    });
    sleep(5, { clock, background: true });
    expect([...clock.timers.values()].map((timer) => timer.background)).toEqual([false, true]);
    clock.advance(999);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1);
    await waiting;
    expect(done).toBe(true);
  });

  it('rejects at once on a fired signal and drops its timer when the signal fires later', async () => {
    const clock = new StepClock();
    const fired = new AbortController();
    fired.abort();
    await expect(sleep(10, { clock, signal: fired.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(clock.timers.size).toBe(0);
    const later = new AbortController();
    const waiting = sleep(10, { clock, signal: later.signal });
    expect(clock.timers.size).toBe(1);
    later.abort(new AgentrixError('CLOSED', 'manager closed'));
    await expect(waiting).rejects.toMatchObject({ code: 'CLOSED', message: 'manager closed' });
    expect(clock.timers.size).toBe(0);
  });
});

describe('abort helpers', () => {
  it('turn a signal into ABORTED with its reason as the cause, or into the reason when it is an AgentrixError', () => {
    const controller = new AbortController();
    controller.abort(new Error('user left'));
    const error = abortError(controller.signal, 'turn');
    expect(error).toMatchObject({ code: 'ABORTED', message: 'The turn was aborted: user left' });
    expect((error.cause as Error).message).toBe('user left');
    const reason = new AgentrixError('TURN_TIMEOUT', 'too slow');
    expect(abortError(AbortSignal.abort(reason))).toBe(reason);
    expect(abortError(AbortSignal.abort('just a string')).message).toBe('The operation was aborted');
    expect(() => throwIfAborted(undefined)).not.toThrow();
    expect(() => throwIfAborted(new AbortController().signal)).not.toThrow();
    expect(() => throwIfAborted(controller.signal, 'read')).toThrow('The read was aborted: user left');
  });

  it('tells each watcher of a signal once, and not one that stopped watching', () => {
    const controller = new AbortController();
    const told: string[] = [];
    const a = { onAbort: () => told.push('a') };
    const b = { onAbort: () => told.push('b') };
    const c = { onAbort: () => told.push('c') };
    watchAbort(controller.signal, a);
    watchAbort(controller.signal, b);
    watchAbort(controller.signal, c);
    unwatchAbort(controller.signal, b);
    unwatchAbort(new AbortController().signal, a); // not watching that one: nothing happens
    controller.abort();
    controller.abort();
    expect(told).toEqual(['a', 'c']);
  });

  it('untilAborted settles like the promise, or rejects at once when the signal fires first', async () => {
    expect(await untilAborted(Promise.resolve(1), undefined)).toBe(1);
    expect(await untilAborted(Promise.resolve(2), new AbortController().signal)).toBe(2);
    await expect(untilAborted(Promise.reject(new Error('own')), new AbortController().signal)).rejects.toThrow('own');

    const controller = new AbortController();
    let lateReject: (error: Error) => void = () => {};
    const never = new Promise<number>((_, reject) => {
      lateReject = reject;
    });
    const bounded = settled(untilAborted(never, controller.signal, 'tool call'));
    controller.abort();
    expect(await bounded).toMatchObject({
      error: { code: 'ABORTED', message: expect.stringMatching(/^The tool call was aborted/) },
    });
    lateReject(new Error('too late')); // abandoned: swallowed, no unhandled rejection

    const already = AbortSignal.abort();
    await expect(untilAborted(Promise.reject(new Error('x')), already)).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('blocked reads', () => {
  function blockedRead(signal?: AbortSignal) {
    const outcome: { deliveries?: Delivery[]; error?: unknown } = {};
    const read: BlockedRead = {
      resolve: (deliveries) => {
        outcome.deliveries = deliveries;
      },
      reject: (error) => {
        outcome.error = error;
      },
      signal,
      timer: undefined,
      hasTimer: false,
      onAbort: undefined,
      leave: undefined,
      clock: undefined,
    };
    return { read, outcome };
  }

  it('resolves with [] after blockMs, once, and leaves its inbox', () => {
    const clock = new StepClock();
    const waiting = new Set<BlockedRead>();
    const { read, outcome } = blockedRead();
    waiting.add(read);
    armBlockedRead(read, clock, 100, (each) => waiting.delete(each));
    expect(read.hasTimer).toBe(true);
    clock.advance(100);
    expect(outcome).toEqual({ deliveries: [] });
    expect(waiting.size).toBe(0);
    expect(read.hasTimer).toBe(false);
  });

  it('uses no timer without blockMs or past the longest timer Node takes', () => {
    const clock = new StepClock();
    for (const blockMs of [undefined, 2_147_483_648]) {
      armBlockedRead(blockedRead().read, clock, blockMs, () => true);
    }
    expect(clock.timers.size).toBe(0);
  });

  it('rejects with ABORTED when its signal fires, clearing its timer', () => {
    const clock = new StepClock();
    const controller = new AbortController();
    const { read, outcome } = blockedRead(controller.signal);
    armBlockedRead(read, clock, 100, () => true);
    controller.abort();
    expect(outcome.error).toMatchObject({ code: 'ABORTED', message: expect.stringMatching(/^The read was aborted/) });
    expect(clock.timers.size).toBe(0);
  });

  it('once settled with deliveries, ignores its timer and its signal', () => {
    const clock = new StepClock();
    const controller = new AbortController();
    const { read, outcome } = blockedRead(controller.signal);
    let inInbox = true;
    armBlockedRead(read, clock, 100, () => {
      const was = inInbox;
      inInbox = false;
      return was;
    });
    inInbox = false; // the bus took it out to hand it a delivery
    const delivery = { deliveryId: 'd1' } as Delivery;
    settleBlockedRead(read, clock, [delivery]);
    controller.abort();
    clock.advance(1_000);
    expect(outcome).toEqual({ deliveries: [delivery] });
    expect(clock.timers.size).toBe(0);
  });
});
