import type { AgentContext, ContextStore, ThreadInfo } from '@agentrix/core';

/**
 * Keeps contexts in memory, per agent and thread. Copies the message array on save and load so a
 * caller that keeps appending to its copy never changes what was stored (message objects are
 * never mutated).
 */
export class InMemoryContextStore implements ContextStore {
  readonly #agents = new Map<string, Map<string, AgentContext>>();

  async load(agentId: string, threadId: string): Promise<AgentContext | undefined> {
    const stored = this.#agents.get(agentId)?.get(threadId);
    return stored ? copy(stored) : undefined;
  }

  async save(context: AgentContext): Promise<void> {
    let threads = this.#agents.get(context.agentId);
    if (threads === undefined) {
      threads = new Map();
      this.#agents.set(context.agentId, threads);
    }
    threads.set(context.threadId, copy(context));
  }

  async delete(agentId: string, threadId?: string): Promise<number> {
    const threads = this.#agents.get(agentId);
    if (threads === undefined) return 0;
    if (threadId === undefined) {
      this.#agents.delete(agentId);
      return threads.size;
    }
    const deleted = threads.delete(threadId) ? 1 : 0;
    if (threads.size === 0) this.#agents.delete(agentId);
    return deleted;
  }

  async threads(agentId: string, options: { limit?: number } = {}): Promise<ThreadInfo[]> {
    const threads = [...(this.#agents.get(agentId)?.values() ?? [])].map((context) => ({
      threadId: context.threadId,
      turns: context.turns,
      updatedAt: context.updatedAt,
    }));
    threads.sort((a, b) => b.updatedAt - a.updatedAt || (a.threadId < b.threadId ? -1 : 1));
    return threads.slice(0, options.limit ?? 100);
  }
}

function copy(context: AgentContext): AgentContext {
  return { ...context, messages: context.messages.slice(), state: { ...context.state } };
}
