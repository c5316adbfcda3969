import type { AgentContext, ContextStore, ThreadInfo } from '@agentrix/core';

/**
 * The context `ContextManager` is saving right now, built by it and never changed afterwards: the
 * in-memory store keeps it as it is instead of copying it (a copy on each save and load was 9% of
 * an ask, bench/runtime section 4; freezing cost more than copying; marking it in a WeakSet cost
 * 0.7 µs an ask and weak-table work in every GC). A store that saves later than the call copies.
 */
let handing: AgentContext | undefined;

/** Saves a context nobody changes afterwards: the in-memory store keeps it without a copy. */
export function saveHandedOver(store: ContextStore, context: AgentContext): Promise<void> {
  handing = context;
  try {
    return store.save(context);
  } finally {
    handing = undefined;
  }
}

/**
 * Keeps contexts in memory, per agent and thread. `load` hands out the stored context itself:
 * treat it as read-only (as every `ContextStore`'s contexts are values). A context saved by
 * anything but `ContextManager` is copied, so changing it afterwards changes nothing stored.
 */
export class InMemoryContextStore implements ContextStore {
  readonly #agents = new Map<string, Map<string, AgentContext>>();

  // load and save are not `async`: a frame each per turn (bench/runtime section 4); their promises are settled already.
  load(agentId: string, threadId: string): Promise<AgentContext | undefined> {
    return Promise.resolve(this.#agents.get(agentId)?.get(threadId));
  }

  save(context: AgentContext): Promise<void> {
    try {
      let threads = this.#agents.get(context.agentId);
      if (threads === undefined) {
        threads = new Map();
        this.#agents.set(context.agentId, threads);
      }
      threads.set(context.threadId, context === handing ? context : copy(context));
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
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
