import { describe, expect, it } from 'vitest';
import { RunningTurns } from './running-turns.js';
import { TurnSignal } from './turn-signal.js';

describe('RunningTurns', () => {
  it('keeps one turn per thread, in fields and then a map, and aborts every running turn', async () => {
    const running = new RunningTurns();
    const [main, chat, other] = [Promise.resolve(), Promise.resolve(), Promise.resolve()];
    expect([running.size, running.get('main'), running.values()]).toEqual([0, undefined, []]);
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
    const values = running.values();
    expect(values).toHaveLength(2);
    expect(values).toContain(chat);
    expect(values).toContain(other);
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
});
