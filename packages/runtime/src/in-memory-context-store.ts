import type { AgentContext, ContextStore, ThreadInfo } from '@agentrix/core';

/**
 * Keeps contexts in memory, per agent and thread. What it stores is frozen (the context, its
 * message array and its state), so `load` hands out the stored context itself and no caller can
 * change what was stored; a context saved already frozen (as `ContextManager` saves them) is
 * kept as it is. Copying on each load and save was 9% of an ask (bench/runtime section 4).
 */
export class InMemoryContextStore implements ContextStore {
  readonly #agents = new Map<string, Map<string, AgentContext>>();

  async load(agentId: string, threadId: string): Promise<AgentContext | undefined> {
    const stored = this.#agents.get(agentId)?.get(threadId);
    return stored;
  }

  async save(context: AgentContext): Promise<void> {
    let threads = this.#agents.get(context.agentId);
    if (threads === undefined) {
      threads = new Map();
      this.#agents.set(context.agentId, threads);
    }
    threads.set(context.threadId, frozen(context));
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

function frozen(context: AgentContext): AgentContext {
  if (Object.isFrozen(context) && Object.isFrozen(context.messages) && Object.isFrozen(context.state)) return context;
  return Object.freeze({
    ...context,
    messages: Object.freeze(context.messages.slice()) as AgentContext['messages'],
    state: Object.freeze({ ...context.state }),
  });
}
