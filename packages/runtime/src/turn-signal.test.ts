import { addAbortListener, once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { TurnSignal } from './turn-signal.js';

describe('TurnSignal', () => {
  it('an abort rejects every waiting race with the abort and detaches the raced promises', async () => {
    const turn = TurnSignal.own(new AbortController());
    const never = new Promise<string>(() => {});
    const first = turn.race(never, 'the model');
    const second = turn.race(Promise.reject(new Error('late')), 'a tool');
    await expect(second).rejects.toThrow('late');
    turn.abort(new Error('deadline'));
    await expect(first).rejects.toThrow(/the model/);
    expect(turn.aborted).toBe(true);
    await expect(turn.race(Promise.resolve(1), 'after')).rejects.toThrow(/after/);
    expect(() => turn.throwIfAborted('turn')).toThrow();
  });

  it('serves the next turn only when nothing waits, nothing listens and it did not abort', async () => {
    const turn = TurnSignal.own(new AbortController());
    let release: (value: number) => void = () => {};
    const waiting = turn.race(new Promise<number>((resolve) => (release = resolve)), 'a tool');
    expect(turn.reusable()).toBe(false);
    release(5);
    expect(await waiting).toBe(5);
    expect(turn.reusable()).toBe(true);
    const listener = () => {};
    turn.signal.addEventListener('abort', listener);
    expect(turn.reusable()).toBe(false);
    turn.signal.removeEventListener('abort', listener);
    expect(turn.reusable()).toBe(true);
    turn.abort(new Error('stop'));
    expect(turn.reusable()).toBe(false);
    expect(TurnSignal.following(undefined).reusable()).toBe(false);
  });

  it('sees listeners added any way (events.addAbortListener, events.once) and only asks Node once one was added', async () => {
    const turn = TurnSignal.own(new AbortController());
    expect(turn.reusable()).toBe(true);
    const listening = addAbortListener(turn.signal, () => {});
    expect(turn.reusable()).toBe(false);
    listening[Symbol.dispose]();
    expect(turn.reusable()).toBe(true);
    const waiting = once(turn.signal, 'abort');
    expect(turn.reusable()).toBe(false);
    turn.abort(new Error('stop'));
    await waiting;
    expect(turn.reusable()).toBe(false);
  });

  it('a guard ends a turn that aborts while it awaits something unraced, in a microtask, once', async () => {
    const ended: Array<[string, string]> = [];
    const onAbort = (target: string, error: unknown) => ended.push([target, (error as Error).message]);
    const turn = TurnSignal.own(new AbortController());
    expect(turn.guard(onAbort, 'first', 'the step loop')).toBe(true);
    expect(turn.reusable()).toBe(false);
    // Held until the awaited work ends: then nothing fires, and the signal serves again.
    expect(turn.unguard()).toBe(true);
    expect(turn.unguard()).toBe(false);
    expect(turn.reusable()).toBe(true);
    expect(turn.guard(onAbort, 'second', 'the step loop')).toBe(true);
    // No race while a guard holds the slot, and no second guard.
    expect(turn.guard(onAbort, 'third', 'the step loop')).toBe(false);
    turn.abort(new Error('deadline'));
    expect(ended).toEqual([]); // not inside abort()
    await Promise.resolve();
    expect(ended).toHaveLength(1);
    expect(ended[0]![0]).toBe('second');
    expect(ended[0]![1]).toMatch(/the step loop/);
    expect(turn.unguard()).toBe(false); // it fired: the awaited work's late result is to be dropped
    expect(turn.guard(onAbort, 'after', 'the step loop')).toBe(false);
    expect(TurnSignal.following(undefined).guard(onAbort, 'caller', 'the step loop')).toBe(false);
  });

  it('expire aborts with the deadline reason it was made with, on every turn the signal serves', () => {
    let made = 0;
    const turn = TurnSignal.own(new AbortController(), () => new Error(`deadline ${++made}`));
    const { expire } = turn;
    expect(turn.reusable()).toBe(true);
    expire();
    expect(turn.aborted).toBe(true);
    expect((turn.reason as Error).message).toBe('deadline 1');
    expire();
    expect(made).toBe(1);
    const following = TurnSignal.following(undefined);
    following.expire();
    expect(following.aborted).toBe(false);
  });

  it('closes the model streams still open when the turn aborts, and only those', async () => {
    const closed: string[] = [];
    const stream = (name: string): AsyncIterator<unknown> => ({
      next: () => new Promise(() => {}),
      return: async () => {
        closed.push(name);
        return { done: true, value: undefined };
      },
    });
    const turn = TurnSignal.own(new AbortController());
    const [open, ended] = [stream('open'), stream('ended')];
    turn.closeOnAbort(open);
    turn.closeOnAbort(ended);
    turn.streamEnded(ended);
    expect(turn.reusable()).toBe(false);
    turn.abort(new Error('deadline'));
    turn.closeOnAbort(stream('after'));
    expect(closed).toEqual(['open', 'after']);

    // The first stream ending leaves a second one still closed by the abort.
    const second = TurnSignal.own(new AbortController());
    const [early, late] = [stream('early'), stream('late')];
    second.closeOnAbort(early);
    second.closeOnAbort(late);
    second.streamEnded(early);
    expect(second.reusable()).toBe(false);
    second.abort(new Error('deadline'));
    expect(closed).toEqual(['open', 'after', 'late']);

    const caller = new AbortController();
    const following = TurnSignal.following(caller.signal);
    following.closeOnAbort(stream('followed'));
    caller.abort();
    expect(closed).toEqual(['open', 'after', 'late', 'followed']);
  });
});
