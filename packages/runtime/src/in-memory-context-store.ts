import type { AgentContext, ContextStore } from '@agentrix/core';

/**
 * Keeps contexts in a Map. Copies the message array on save and load so a caller that keeps
 * appending to its copy never changes what was stored (message objects are never mutated).
 */
export class InMemoryContextStore implements ContextStore {
  readonly #contexts = new Map<string, AgentContext>();

  async load(agentId: string): Promise<AgentContext | undefined> {
    const stored = this.#contexts.get(agentId);
    return stored ? copy(stored) : undefined;
  }

  async save(context: AgentContext): Promise<void> {
    this.#contexts.set(context.agentId, copy(context));
  }

  async delete(agentId: string): Promise<void> {
    this.#contexts.delete(agentId);
  }
}

function copy(context: AgentContext): AgentContext {
  return { ...context, messages: context.messages.slice(), state: { ...context.state } };
}
