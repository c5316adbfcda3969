import {
  type ChatMessage,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type ChatStreamPart,
  DEFAULT_THREAD,
  type TurnCommit,
  type TurnCommitHook,
  type UserMessage,
} from '@agentrix/core';
import type { Distiller } from './distiller.js';
import type { Memory } from './memory.js';
import type { MemoryScope } from './scope.js';
import { buildWorkingMemory, messageTokens } from './working-memory.js';

export interface WithMemoryOptions {
  /** Tokens the whole prompt may take (system + retrieved memories + working memory). Default 6000. */
  promptBudgetTokens?: number;
  /**
   * Tokens the retrieved memories may take, within the prompt budget: retrieval fills it best
   * first (facts, matching turns with the short turns around them, the two most recent), so it,
   * not a count, decides how much is recalled. Default: a quarter of the prompt budget, at most
   * 1500 (1500 with the default prompt budget: about a tenth of a history of ~600 turns, bench/memory).
   */
  memoryBudgetTokens?: number;
  /** Most recent messages kept in working memory. Default 20. */
  maxMessages?: number;
  /** Shared namespaces every call reads (e.g. a team). Default none. */
  namespaces?: readonly string[];
  /** The current task state of an agent, put in working memory. */
  taskState?: (agentId: string | undefined) => unknown;
  /** At most this many facts per call, within the memory budget. Default: as many as fit. */
  facts?: number;
  /** Who the user is when `request.scope.userId` is not set. Default: the last user message's `name`. */
  resolveUserId?: (request: ChatRequest) => string | undefined;
  /**
   * Distils the conversation's sessions into facts and summaries after each turn's commit
   * (`createDistiller`): queued, never awaited by the turn, and a failure is an event. Default none.
   */
  distiller?: Distiller | undefined;
}

/** A {@link ChatModel} that reads and writes memory; see {@link withMemory}. */
export interface MemoryModel extends ChatModel {
  readonly memory: Memory;
  /**
   * The turn commit hook that records each finished turn of an agent served by this model as an
   * episode, before the turn's context is saved and its message acked: pass it as
   * `createAgentrix({ onTurnCommit: model.commitTurn })`. Idempotent by message id: a redelivered
   * turn is recorded once. A failed write fails the turn, which is then redelivered.
   */
  readonly commitTurn: TurnCommitHook;
}

/** One conversation's turn in progress: whom it is for, its user message and what was retrieved for it. */
interface OpenTurn {
  scope: MemoryScope;
  input: UserMessage;
  retrieved: string;
}

const MEMORY_MARKER = '[memory]';

/**
 * Wraps a model (usually the gateway) so every call for an agent carries its memory: the
 * system prompt, then the memories retrieved for the last user message (facts and episodes of
 * `request.scope.userId` / `agentId` / `threadId` and the shared namespaces), then the working
 * memory (the last messages and the task state) fitted into the prompt budget. One retrieval per
 * user message: the steps of a tool loop reuse it. Conversations are kept apart by (agent,
 * thread), so one agent serves many threads at once. Agents switched off (`memory.disable(id)`)
 * pass through untouched. Writes happen in the turn's commit: pass `onTurnCommit: model.commitTurn`.
 */
export function withMemory(model: ChatModel, memory: Memory, options: WithMemoryOptions = {}): MemoryModel {
  const promptBudget = options.promptBudgetTokens ?? 6000;
  const memoryBudget = options.memoryBudgetTokens ?? Math.min(1500, Math.floor(promptBudget / 4));
  // Turns are serial within a thread, so one open turn per (agent, thread); closed by its commit.
  const open = new Map<string, OpenTurn>();
  const turnKey = (agentId: string | undefined, threadId: string) => `${agentId ?? ''}\u0000${threadId}`;
  const resolveUserId =
    options.resolveUserId ??
    ((request: ChatRequest) =>
      [...request.messages].reverse().find((message): message is UserMessage => message.role === 'user')?.name);

  async function prepare(request: ChatRequest): Promise<ChatRequest> {
    const agentId = request.scope?.agentId;
    if (!memory.isEnabled(agentId) || request.scope?.tags?.includes('memory.summary')) return request;
    const input = [...request.messages].reverse().find((message): message is UserMessage => message.role === 'user');
    if (!input) return request;
    const threadId = request.scope?.threadId ?? DEFAULT_THREAD;
    const key = turnKey(agentId, threadId);
    let turn = open.get(key);
    if (turn?.input !== input) {
      const userId = request.scope?.userId ?? resolveUserId(request);
      const scope: MemoryScope = { userId, agentId, threadId };
      const found = await memory.retrieve({
        scope: { ...scope, namespaces: options.namespaces },
        query: input.content,
        facts: options.facts,
        maxTokens: memoryBudget,
        signal: request.signal,
      });
      turn = { scope, input, retrieved: found.text };
      open.set(key, turn);
    }
    const system = request.messages.filter(
      (message) => message.role === 'system' && !message.content.startsWith(MEMORY_MARKER),
    );
    const memoryMessages: ChatMessage[] = turn.retrieved
      ? [{ role: 'system', content: `${MEMORY_MARKER} What you remember (may be relevant):\n${turn.retrieved}` }]
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

  async function commitTurn(commit: TurnCommit): Promise<void> {
    const key = turnKey(commit.agentId, commit.threadId);
    const turn = open.get(key);
    // A commit closes its thread's turn; a failed write fails the turn, whose redelivery opens it again.
    open.delete(key);
    // Only turns whose calls came through this model (an agent on another model has no open turn here).
    if (!turn || turn.input.content !== commit.input.content || !memory.isEnabled(commit.agentId)) return;
    await memory.recordEpisode({
      scope: turn.scope,
      messageId: commit.messageId,
      messages: [commit.input, { role: 'assistant', content: commit.reply }],
      signal: commit.signal,
    });
    // After the episode is stored, beside the rest of the commit: the turn never waits for it.
    options.distiller?.afterTurn(turn.scope);
  }

  return {
    name: `memory(${model.name})`,
    // A wrapper keeps the inner model's retry ownership: a gateway inside still retries alone.
    ...(model.managesRetries === true ? { managesRetries: true } : {}),
    memory,
    commitTurn,
    async generate(request: ChatRequest): Promise<ChatResponse> {
      return model.generate(await prepare(request));
    },
    async *stream(request: ChatRequest): AsyncIterable<ChatStreamPart> {
      yield* model.stream(await prepare(request));
    },
  };
}
