import {
  type AgentRegistry,
  type AgentRegistryEntry,
  type AgentState,
  type Clock,
  type SerializedError,
  systemClock,
} from '@agentrix/core';

/** Keeps agent entries in a Map (insertion order = creation order). */
export class InMemoryAgentRegistry implements AgentRegistry {
  readonly #entries = new Map<string, AgentRegistryEntry>();

  constructor(private readonly clock: Clock = systemClock) {}

  async save(entry: AgentRegistryEntry): Promise<void> {
    this.#entries.set(entry.spec.id, copy(entry));
  }

  async setState(agentId: string, state: AgentState, lastError?: SerializedError): Promise<void> {
    const entry = this.#entries.get(agentId);
    if (!entry) return;
    entry.state = state;
    entry.updatedAt = this.clock.now();
    entry.lastError = lastError;
  }

  async load(agentId: string): Promise<AgentRegistryEntry | undefined> {
    const entry = this.#entries.get(agentId);
    return entry ? copy(entry) : undefined;
  }

  async list(): Promise<AgentRegistryEntry[]> {
    return [...this.#entries.values()].map(copy);
  }

  async delete(agentId: string): Promise<void> {
    this.#entries.delete(agentId);
  }
}

// A literal (not a spread) so every entry shares one hidden class.
function copy(entry: AgentRegistryEntry): AgentRegistryEntry {
  return {
    spec: entry.spec,
    state: entry.state,
    lastError: entry.lastError,
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
  };
}
