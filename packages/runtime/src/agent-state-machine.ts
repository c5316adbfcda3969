import { AgentrixError, type AgentrixEvents, type AgentState, type Clock } from '@agentrix/core';

/** Legal transitions: anything else throws ILLEGAL_STATE_TRANSITION. */
export const AGENT_TRANSITIONS: Readonly<Record<AgentState, readonly AgentState[]>> = {
  created: ['idle', 'paused', 'terminated'],
  idle: ['running', 'paused', 'error', 'terminated'],
  running: ['idle', 'paused', 'error', 'terminated'],
  paused: ['idle', 'terminated'],
  error: ['idle', 'paused', 'terminated'],
  terminated: [],
};

/**
 * The lifecycle of one agent: created -> idle <-> running, paused, error, terminated.
 * Every transition is an `agent.state` event; an illegal one is a typed error.
 */
export class AgentStateMachine {
  #state: AgentState;

  constructor(
    readonly agentId: string,
    private readonly events: AgentrixEvents,
    private readonly clock: Clock,
    initial: AgentState = 'created',
    /** Called after every transition (the runtime persists states through it). */
    private readonly onChange?: (from: AgentState, to: AgentState, reason: string | undefined) => void,
  ) {
    this.#state = initial;
  }

  get state(): AgentState {
    return this.#state;
  }

  can(to: AgentState): boolean {
    return AGENT_TRANSITIONS[this.#state].includes(to);
  }

  transition(to: AgentState, reason?: string): void {
    const from = this.#state;
    if (!AGENT_TRANSITIONS[from].includes(to)) {
      const allowed = AGENT_TRANSITIONS[from];
      throw new AgentrixError(
        'ILLEGAL_STATE_TRANSITION',
        `Agent "${this.agentId}" cannot go from ${from} to ${to}; from ${from} it can go to ${
          allowed.length > 0 ? allowed.join(', ') : 'nothing (terminated is final)'
        }`,
        { agentId: this.agentId, details: { from, to } },
      );
    }
    this.#state = to;
    this.onChange?.(from, to, reason);
    if (this.events.has('agent.state')) {
      this.events.emit('agent.state', {
        agentId: this.agentId,
        from,
        to,
        at: this.clock.now(),
        ...(reason === undefined ? {} : { reason }),
      });
    }
  }
}
