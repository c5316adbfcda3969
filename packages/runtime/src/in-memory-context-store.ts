import type { AgentContext, ContextStore, ThreadInfo } from '@agentrix/core';

/**
 * Keeps contexts in memory, per agent and thread. `load` hands out the stored context itself:
 * treat it as read-only (as every `ContextStore`'s contexts are values). `save` copies, so
 * changing a context afterwards changes nothing stored.
 *
 * `ContextManager` reads and writes it at once (`get`, `keep`), without the promise of `load` and
 * `save`: an `await` less each per turn (bench/runtime section 4, fifth pass), and `keep` stores
 * the context it built itself without a copy (a copy on each save and load was 9% of an ask).
 */
export class InMemoryContextStore implements ContextStore {
  readonly #agents = new Map<string, Map<string, AgentContext>>();

  load(agentId: string, threadId: string): Promise<AgentContext | undefined> {
    return Promise.resolve(this.get(agentId, threadId));
  }

  async save(context: AgentContext): Promise<void> {
    this.keep(copy(context));
  }

  /** What `load` resolves to, at once. */
  get(agentId: string, threadId: string): AgentContext | undefined {
    return this.#agents.get(agentId)?.get(threadId);
  }

  /** Stores `context` itself (no copy): for a context nobody changes afterwards. */
  keep(context: AgentContext): void {
    let threads = this.#agents.get(context.agentId);
    if (threads === undefined) {
      threads = new Map();
      this.#agents.set(context.agentId, threads);
    }
    threads.set(context.threadId, context);
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
