import type {
  AgentrixEvents,
  ChatMessage,
  ChatModel,
  ChatRequest,
  ChatResponse,
  ChatStreamPart,
  UserMessage,
} from '@agentrix/core';
import type { Memory } from './memory.js';
import type { MemoryScope } from './scope.js';
import { buildWorkingMemory, messageTokens } from './working-memory.js';

export interface WithMemoryOptions {
  /** Tokens the whole prompt may take (system + retrieved memories + working memory). Default 4000. */
  promptBudgetTokens?: number;
  /** Tokens the retrieved memories may take, within the prompt budget. Default 800. */
  memoryBudgetTokens?: number;
  /** Most recent messages kept in working memory. Default 20. */
  maxMessages?: number;
  /** Shared namespaces every call reads (e.g. a team). Default none. */
  namespaces?: readonly string[];
  /** The current task state of an agent, put in working memory. */
  taskState?: (agentId: string | undefined) => unknown;
  /** Facts to retrieve per call. Default 8. */
  facts?: number;
  /** Who the user is when `request.scope.userId` is not set. Default: the last user message's `name`. */
  resolveUserId?: (request: ChatRequest) => string | undefined;
}

/** A {@link ChatModel} that reads and writes memory; see {@link withMemory}. */
export interface MemoryModel extends ChatModel {
  readonly memory: Memory;
  /**
   * Listens to the runtime's `turn.completed` events and records each finished turn as an
   * episode off the hot path (through `memory.schedule`). Returns a function that stops listening.
   */
  attach(events: AgentrixEvents): () => void;
}

interface PendingTurn {
  scope: MemoryScope;
  input: UserMessage;
}

const MEMORY_MARKER = '[memory]';

/**
 * Wraps a model (usually the gateway) so every call for an agent carries its memory: the
 * system prompt, then the memories retrieved for the last user message (facts and episodes of
 * `request.scope.userId` / `agentId` and the shared namespaces), then the working memory (the
 * last messages and the task state) fitted into the prompt budget. One retrieval per user
 * message: the steps of a tool loop reuse it. Agents switched off (`memory.disable(id)`) pass
 * through untouched. Writes happen after the turn: call `attach(agentrix.events)`.
 */
export function withMemory(model: ChatModel, memory: Memory, options: WithMemoryOptions = {}): MemoryModel {
  const promptBudget = options.promptBudgetTokens ?? 4000;
  const memoryBudget = options.memoryBudgetTokens ?? 800;
  const pending = new Map<string, PendingTurn>();
  const retrieved = new Map<string, { input: UserMessage; text: string }>();
  const resolveUserId =
    options.resolveUserId ??
    ((request: ChatRequest) =>
      [...request.messages].reverse().find((message): message is UserMessage => message.role === 'user')?.name);

  async function prepare(request: ChatRequest): Promise<ChatRequest> {
    const agentId = request.scope?.agentId;
    if (!memory.isEnabled(agentId) || request.scope?.tags?.includes('memory.summary')) return request;
    const input = [...request.messages].reverse().find((message): message is UserMessage => message.role === 'user');
    if (!input) return request;
    const userId = request.scope?.userId ?? resolveUserId(request);
    const scope: MemoryScope = { userId, agentId };
    const key = `${agentId ?? ''}\u0000${userId ?? ''}`;
    if (agentId !== undefined) pending.set(agentId, { scope, input });
    let cached = retrieved.get(key);
    if (cached?.input !== input) {
      const found = await memory.retrieve({
        scope: { userId, agentId, namespaces: options.namespaces },
        query: input.content,
        facts: options.facts ?? 8,
        maxTokens: memoryBudget,
        signal: request.signal,
      });
      cached = { input, text: found.text };
      retrieved.set(key, cached);
    }
    const system = request.messages.filter(
      (message) => message.role === 'system' && !message.content.startsWith(MEMORY_MARKER),
    );
    const memoryMessages: ChatMessage[] = cached.text
      ? [{ role: 'system', content: `${MEMORY_MARKER} What you remember (may be relevant):\n${cached.text}` }]
      : [];
    let used = 0;
    for (const message of [...system, ...memoryMessages]) used += messageTokens(message, memory.countTokens);
    const working = buildWorkingMemory({
      messages: request.messages,
      taskState: options.taskState?.(agentId),
      maxMessages: options.maxMessages ?? 20,
      budgetTokens: Math.max(0, promptBudget - used),
      countTokens: memory.countTokens,
    });
    return { ...request, messages: [...system, ...memoryMessages, ...working.messages] };
  }

  return {
    name: `memory(${model.name})`,
    // A wrapper keeps the inner model's retry ownership: a gateway inside still retries alone.
    ...(model.managesRetries === true ? { managesRetries: true } : {}),
    memory,
    async generate(request: ChatRequest): Promise<ChatResponse> {
      return model.generate(await prepare(request));
    },
    async *stream(request: ChatRequest): AsyncIterable<ChatStreamPart> {
      yield* model.stream(await prepare(request));
    },
    attach(events: AgentrixEvents): () => void {
      const listener = (event: { agentId: string; reply: string }) => {
        const turn = pending.get(event.agentId);
        if (!turn || !memory.isEnabled(event.agentId)) return;
        pending.delete(event.agentId);
        memory.schedule(
          () =>
            memory.recordEpisode({
              scope: turn.scope,
              messages: [turn.input, { role: 'assistant', content: event.reply }],
            }),
          event.agentId,
        );
      };
      events.on('turn.completed', listener);
      return () => {
        events.off('turn.completed', listener);
      };
    },
  };
}
