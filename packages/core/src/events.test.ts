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
