import { describe, expect, it } from 'vitest';
import { RunningTurns, TurnEnd } from './running-turns.js';
import { TurnSignal } from './turn-signal.js';

describe('RunningTurns', () => {
  it('keeps one turn per thread, in fields and then a map, and aborts every running turn', async () => {
    const running = new RunningTurns();
    const [main, chat, other] = [new TurnEnd(), new TurnEnd(), new TurnEnd()];
    expect([running.size, running.get('main'), running.ends()]).toEqual([0, undefined, []]);
    running.set('main', main);
    running.set('chat:1', chat);
    expect(running.size).toBe(2);
    expect(running.get('main')).toBe(main);
    expect(running.get('chat:1')).toBe(chat);
    running.delete('main');
    running.set('chat:2', other);
    expect(running.size).toBe(2);
    expect(running.get('main')).toBeUndefined();
    expect(running.get('chat:2')).toBe(other);
    const ends = running.ends();
    expect(ends).toHaveLength(2);
    expect(ends).toContain(chat.promise);
    expect(ends).toContain(other.promise);
    running.delete('chat:1');
    running.delete('chat:2');
    expect(running.size).toBe(0);

    const [first, second] = [TurnSignal.own(new AbortController()), TurnSignal.own(new AbortController())];
    running.addSignal(first);
    running.addSignal(second);
    running.removeSignal(first);
    running.abortAll(new Error('stop'));
    expect([first.aborted, second.aborted]).toEqual([false, true]);
  });

  it("makes a turn's end a promise only when asked, settled once the turn ended", async () => {
    const end = new TurnEnd();
    const waiting = end.promise;
    expect(end.promise).toBe(waiting);
    let settled = false;
    void waiting.then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    end.end();
    await waiting;
    expect(settled).toBe(true);
    const ended = new TurnEnd();
    ended.end();
    await ended.promise; // made after the end: settled already
  });
});
