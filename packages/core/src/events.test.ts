import { describe, expect, it } from 'vitest';
import { AgentrixEvents } from './events.js';

describe('AgentrixEvents.tap', () => {
  it('sees every event before its listeners, makes has() true, and detaches cleanly', () => {
    const events = new AgentrixEvents();
    const seen: string[] = [];
    events.on('message.sent', () => seen.push('listener'));
    expect(events.has('agent.state')).toBe(false);
    const untap = events.tap((name) => seen.push(`tap:${name}`));
    expect(events.has('agent.state')).toBe(true);
    events.emit('agent.state', { agentId: 'a', from: 'idle', to: 'running', at: 1 });
    events.emit('message.sent', { envelope: {} as never });
    expect(seen).toEqual(['tap:agent.state', 'tap:message.sent', 'listener']);
    untap();
    untap();
    expect(events.has('agent.state')).toBe(false);
    expect(Object.hasOwn(events, 'emit')).toBe(false);
    events.emit('agent.state', { agentId: 'a', from: 'running', to: 'idle', at: 2 });
    expect(seen).toHaveLength(3);
  });

  it('has() follows listeners added and removed by every means (on, once, off, removeAllListeners)', () => {
    const events = new AgentrixEvents();
    expect(events.has('turn.started')).toBe(false);
    const listener = () => {};
    events.on('turn.started', listener);
    events.once('turn.failed', listener);
    expect([events.has('turn.started'), events.has('turn.failed'), events.has('turn.completed')]).toEqual([
      true,
      true,
      false,
    ]);
    events.off('turn.started', listener);
    expect(events.has('turn.started')).toBe(false);
    events.emit('turn.failed', {} as never);
    expect(events.has('turn.failed')).toBe(false);
    events.on('model.token', listener);
    events.removeAllListeners();
    expect(events.has('model.token')).toBe(false);
  });

  it('keeps the other taps when one is removed', () => {
    const events = new AgentrixEvents();
    const a: string[] = [];
    const b: string[] = [];
    const untapA = events.tap((name) => a.push(name));
    events.tap((name) => b.push(name));
    untapA();
    events.emit('tool.called', {
      agentId: 'x',
      threadId: 'main',
      turnId: 't',
      toolCall: { id: '1', name: 'n', arguments: '{}' },
    });
    expect(a).toEqual([]);
    expect(b).toEqual(['tool.called']);
  });
});
