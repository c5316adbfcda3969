import {
  type AgentContext,
  AgentContextSchema,
  AgentrixError,
  type ChatMessage,
  type Clock,
  CONTEXT_VERSION,
  type ContextStore,
  DEFAULT_THREAD,
  formatIssues,
} from '@agentrix/core';
import { historyWindow } from '@agentrix/core/implement';
import { InMemoryContextStore } from './in-memory-context-store.js';

/**
 * Loads, trims and saves contexts, one per (agent, thread), through a {@link ContextStore}.
 * Contexts written by an older schema version are upgraded on load; unknown versions are a
 * typed error.
 */
export class ContextManager {
  /** The store when it is the in-process one: a turn reads and saves it without an `await`. */
  readonly #inProcess: InMemoryContextStore | undefined;

  constructor(
    readonly store: ContextStore,
    private readonly clock: Clock,
  ) {
    this.#inProcess = store instanceof InMemoryContextStore ? store : undefined;
  }

  async load(agentId: string, threadId: string = DEFAULT_THREAD): Promise<AgentContext> {
    return this.#loaded(await this.store.load(agentId, threadId), agentId, threadId);
  }

  /**
   * What a turn starts from: `load`'s context, at once (no promise) from the in-process store (an
   * `await` less per turn, bench/runtime section 4, fifth pass).
   */
  loadForTurn(agentId: string, threadId: string): AgentContext | Promise<AgentContext> {
    return this.#inProcess === undefined
      ? this.load(agentId, threadId)
      : this.#loaded(this.#inProcess.get(agentId, threadId), agentId, threadId);
  }

  /** The context of what the store gave: upgraded, or a new one. */
  #loaded(stored: AgentContext | undefined, agentId: string, threadId: string): AgentContext {
    if (!stored) {
      return {
        version: CONTEXT_VERSION,
        agentId,
        threadId,
        messages: [],
        state: {},
        turns: 0,
        updatedAt: this.clock.now(),
      };
    }
    return upgradeContext(stored);
  }

  /**
   * Appends a turn's messages, trims to `maxHistory`, and saves: returns the store's promise, or
   * `undefined` when the in-process store has kept it already (nothing to wait for: an `await`
   * less per turn). Nothing changes the saved context afterwards, so that store keeps it without
   * a copy. `now`: its `updatedAt`, a clock reading the caller made a moment ago (else read here).
   */
  append(
    context: AgentContext,
    messages: readonly ChatMessage[],
    maxHistory: number,
    now: number = this.clock.now(),
  ): Promise<void> | undefined {
    // A literal of the context's fields: a spread copy cost more (CloneObject), bench/runtime section 4.
    const next: AgentContext = {
      version: context.version,
      agentId: context.agentId,
      threadId: context.threadId,
      messages: trimHistory(context.messages.concat(messages), maxHistory),
      state: context.state,
      turns: context.turns + 1,
      updatedAt: now,
    };
    if (this.#inProcess === undefined) return this.store.save(next);
    this.#inProcess.keep(next);
    return undefined;
  }
}

/**
 * Keeps the newest `maxHistory` messages and never starts on a tool result whose call was
 * cut off (models reject an orphaned tool message): core's one trimming policy, {@link historyWindow}.
 */
export function trimHistory(messages: ChatMessage[], maxHistory: number): ChatMessage[] {
  const { start } = historyWindow(messages, { maxMessages: maxHistory });
  return start === 0 ? messages : messages.slice(start);
}

/** Brings a stored context of any known version to the current one. */
export function upgradeContext(value: unknown): AgentContext {
  const version = (value as { version?: unknown } | null)?.version;
  // Version 1 had one context per agent: it is the agent's `main` thread.
  if (version === 1) {
    return upgradeContext({ ...(value as object), version: CONTEXT_VERSION, threadId: DEFAULT_THREAD });
  }
  if (version !== CONTEXT_VERSION) {
    throw new AgentrixError(
      'UNSUPPORTED_CONTEXT_VERSION',
      `Stored agent context has version ${String(version)}; this runtime reads version ${CONTEXT_VERSION}. Upgrade @agentrix/runtime or migrate the store.`,
      { details: { version } },
    );
  }
  // The current version is trusted as stored (a full parse per turn would cost more than the turn);
  // a structurally broken one is still caught.
  const context = value as AgentContext;
  if (!Array.isArray(context.messages) || typeof context.agentId !== 'string' || typeof context.threadId !== 'string') {
    const parsed = AgentContextSchema.safeParse(value);
    throw new AgentrixError(
      'UNSUPPORTED_CONTEXT_VERSION',
      `Stored agent context is invalid: ${parsed.success ? 'missing messages' : formatIssues(parsed.error)}`,
    );
  }
  return context;
}
