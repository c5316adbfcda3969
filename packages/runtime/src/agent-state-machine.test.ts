import { AgentrixEvents, systemClock } from '@agentrix/core';
import { describe, expect, it } from 'vitest';
import { AgentStateMachine } from './agent-state-machine.js';

describe('AgentStateMachine', () => {
  it('moves through legal transitions and emits each one', () => {
    const events = new AgentrixEvents();
    const seen: string[] = [];
    events.on('agent.state', (event) => seen.push(`${event.from}>${event.to}`));
    const machine = new AgentStateMachine('a1', events, systemClock);
    machine.transition('idle');
    machine.transition('running');
    machine.transition('error', 'model down');
    machine.transition('idle');
    machine.transition('paused');
    machine.transition('terminated');
    expect(seen).toEqual([
      'created>idle',
      'idle>running',
      'running>error',
      'error>idle',
      'idle>paused',
      'paused>terminated',
    ]);
  });

  it('throws ILLEGAL_STATE_TRANSITION naming what is allowed', () => {
    const machine = new AgentStateMachine('a1', new AgentrixEvents(), systemClock);
    expect(() => machine.transition('running')).toThrow(
      expect.objectContaining({
        code: 'ILLEGAL_STATE_TRANSITION',
        message: expect.stringMatching(/from created to running.*idle, paused, terminated/),
      }),
    );
    machine.transition('terminated');
    expect(() => machine.transition('idle')).toThrow(/terminated is final/);
    expect(machine.state).toBe('terminated');
  });
});
