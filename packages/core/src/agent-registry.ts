import type { AgentSpec, AgentState } from './agent.js';
import type { SerializedError } from './errors.js';

/** What a registry keeps about one agent, so a restarted process can bring it back. */
export interface AgentRegistryEntry {
  spec: AgentSpec;
  state: AgentState;
  lastError?: SerializedError;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
}

/**
 * The agent registry port: specs and states of every agent (children carry `spec.parentId`).
 * In memory by default; `@agentrix/store` makes it durable so `AgentManager.restore()` can
 * bring every agent back after a restart.
 */
export interface AgentRegistry {
  /** Inserts or replaces the entry of `entry.spec.id`. */
  save(entry: AgentRegistryEntry): Promise<void>;
  /** Records a state change; unknown ids are ignored. */
  setState(agentId: string, state: AgentState, lastError?: SerializedError): Promise<void>;
  load(agentId: string): Promise<AgentRegistryEntry | undefined>;
  /** Every entry, oldest first (parents before the children they created). */
  list(): Promise<AgentRegistryEntry[]>;
  delete(agentId: string): Promise<void>;
}
