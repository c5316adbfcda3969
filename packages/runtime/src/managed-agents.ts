// A manager's table of agents: lookups by id (with the errors for unknown, terminated or
// unreachable agents) and the `AgentInfo` snapshot the host sees.
import {
  AddressSchema,
  type AgentRegistry,
  type AgentRegistryEntry,
  AgentrixError,
  type AgentSpec,
  type AgentState,
  type SerializedError,
} from '@agentrix/core';
import type { AgentRuntime } from './agent-runtime.js';
import type { PauseReason } from './turn-failure.js';

/** A snapshot of one agent, for the host. */
export interface AgentInfo {
  id: string;
  name: string;
  role: string | undefined;
  state: AgentState;
  parentId: string | undefined;
  children: string[];
  turns: number;
  lastError: SerializedError | undefined;
  /** Why a paused agent is paused (host, outage or budget), and when it tries again by itself. */
  pause: PauseReason | undefined;
  spec: AgentSpec;
}

export interface ManagedAgent {
  runtime: AgentRuntime;
  /** Created on the first child: most agents have none. */
  children: Set<string> | undefined;
}

export type ManagedAgents = ReadonlyMap<string, ManagedAgent>;

/** Records `childId` as a child of `parent` (terminated with it). */
export function adoptChild(parent: ManagedAgent, childId: string): void {
  parent.children ??= new Set();
  parent.children.add(childId);
}

export function validAgentId(agents: ManagedAgents, agentId: string): string {
  // An agent of this manager's has a valid id (a parse costs more than the rest of the lookup).
  if (!agents.has(agentId) && !AddressSchema.safeParse(agentId).success) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `Invalid agent id ${JSON.stringify(agentId)}: expected 1-128 letters, digits, "_", ".", ":" or "-"`,
    );
  }
  return agentId;
}

/** The agent of this manager's with that id; AGENT_NOT_FOUND otherwise. */
export function managedAgent(agents: ManagedAgents, agentId: string): ManagedAgent {
  const record = agents.get(validAgentId(agents, agentId));
  if (!record) {
    throw new AgentrixError(
      'AGENT_NOT_FOUND',
      `No agent with id "${agentId}"; create it first (known: ${knownIds(agents)})`,
      {
        agentId,
      },
    );
  }
  return record;
}

/** The agent of this manager's with that id, not terminated; AGENT_TERMINATED otherwise. */
export function liveAgent(agents: ManagedAgents, agentId: string): ManagedAgent {
  const record = managedAgent(agents, agentId);
  if (record.runtime.state === 'terminated') {
    throw new AgentrixError(
      'AGENT_TERMINATED',
      `Agent "${agentId}" is terminated and takes no more messages or commands`,
      {
        agentId,
      },
    );
  }
  return record;
}

/**
 * An agent that may receive messages: one of this manager's (live), or one in the shared
 * registry hosted by another process. AGENT_NOT_FOUND / AGENT_TERMINATED otherwise.
 */
export async function reachableAgent(
  agents: ManagedAgents,
  registry: AgentRegistry,
  agentId: string,
): Promise<AgentRuntime | AgentRegistryEntry> {
  const local = agents.get(validAgentId(agents, agentId));
  if (local !== undefined) return liveAgent(agents, agentId).runtime;
  const entry = await registry.load(agentId);
  if (entry === undefined) {
    throw new AgentrixError(
      'AGENT_NOT_FOUND',
      `No agent with id "${agentId}" here (known: ${knownIds(agents)}) nor in the registry; create it first`,
      { agentId },
    );
  }
  if (entry.state === 'terminated') {
    throw new AgentrixError('AGENT_TERMINATED', `Agent "${agentId}" is terminated and takes no more messages`, {
      agentId,
    });
  }
  return entry;
}

export function agentInfo(agents: ManagedAgents, agentId: string): AgentInfo {
  const { runtime, children } = managedAgent(agents, agentId);
  return {
    id: runtime.id,
    name: runtime.spec.name,
    role: runtime.spec.role,
    state: runtime.state,
    parentId: runtime.spec.parentId,
    children: children ? [...children] : [],
    turns: runtime.turns,
    lastError: runtime.lastError,
    pause: runtime.pauseReason,
    spec: runtime.spec,
  };
}

function knownIds(agents: ManagedAgents): string {
  const ids = [...agents.keys()];
  if (ids.length === 0) return 'none';
  return ids.length > 10 ? `${ids.slice(0, 10).join(', ')}, ...` : ids.join(', ');
}
