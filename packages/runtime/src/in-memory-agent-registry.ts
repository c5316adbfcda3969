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
    this.#entries.set(entry.spec.id, { ...entry });
  }

  async setState(agentId: string, state: AgentState, lastError?: SerializedError): Promise<void> {
    const entry = this.#entries.get(agentId);
    if (!entry) return;
    const next: AgentRegistryEntry = { ...entry, state, updatedAt: this.clock.now() };
    if (lastError) next.lastError = lastError;
    else delete next.lastError;
    this.#entries.set(agentId, next);
  }

  async load(agentId: string): Promise<AgentRegistryEntry | undefined> {
    const entry = this.#entries.get(agentId);
    return entry ? { ...entry } : undefined;
  }

  async list(): Promise<AgentRegistryEntry[]> {
    return [...this.#entries.values()].map((entry) => ({ ...entry }));
  }

  async delete(agentId: string): Promise<void> {
    this.#entries.delete(agentId);
  }
}
