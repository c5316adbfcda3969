// Waiting until a manager's agents are settled: none running, none with a message waiting.
import { AgentrixError, type AgentrixEvents, type Clock, type MessageBus } from '@agentrix/core';
import type { ManagedAgents } from './managed-agents.js';

export interface WaitForIdleOptions {
  /** Default 30 s; then a TIMEOUT error names the agents still busy. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Resolves when no agent is running and no idle agent has a message waiting or in flight.
 * Paused, errored and terminated agents count as settled.
 */
export async function waitForIdle(
  agents: ManagedAgents,
  parts: { bus: MessageBus; events: AgentrixEvents; clock: Clock },
  options: WaitForIdleOptions = {},
): Promise<void> {
  const { events, clock } = parts;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { signal } = options;
  // Subscribe before the first check, so a change during an (async) check is never missed.
  let changes = 0;
  let wake: (() => void) | undefined;
  const onChange = () => {
    changes++;
    wake?.();
  };
  events.on('agent.state', onChange);
  signal?.addEventListener('abort', onChange);
  let timedOut = false;
  const timer = clock.setTimeout(() => {
    timedOut = true;
    wake?.();
  }, timeoutMs);
  try {
    for (;;) {
      const seen = changes;
      let busy = await busyAgents(agents, parts.bus);
      if (busy.length === 0) {
        // Let work that was just scheduled show itself before declaring calm.
        await new Promise<void>((resolve) => setImmediate(resolve));
        busy = await busyAgents(agents, parts.bus);
        if (busy.length === 0) return;
      }
      if (signal?.aborted) throw signal.reason;
      if (timedOut) throw new AgentrixError('TIMEOUT', `Agents still busy after ${timeoutMs} ms: ${busy.join(', ')}`);
      if (changes === seen) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    }
  } finally {
    clock.clearTimeout(timer);
    events.off('agent.state', onChange);
    signal?.removeEventListener('abort', onChange);
  }
}

async function busyAgents(agents: ManagedAgents, bus: MessageBus): Promise<string[]> {
  const busy: string[] = [];
  for (const [id, { runtime }] of agents) {
    if (runtime.state === 'running') busy.push(id);
    else if (runtime.state === 'idle') {
      const stats = await bus.stats(id);
      if (stats.unread + stats.inFlight > 0) busy.push(id);
    }
  }
  return busy;
}
