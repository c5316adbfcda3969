import type { ChatMessage, SystemMessage } from '@agentrix/core';
import { historyWindow, invalidArgument, MESSAGE_OVERHEAD_TOKENS } from '@agentrix/core/implement';
import { estimateTokens, type TokenCounter } from './tokens.js';

export interface WorkingMemoryOptions {
  /** The conversation so far, oldest first (system messages are left out: they are the caller's). */
  messages: readonly ChatMessage[];
  /** The current task state, rendered as one system message. Kept before any message. */
  taskState?: unknown;
  /** Most recent messages to keep. Default 20. */
  maxMessages?: number;
  /** Tokens the working memory may take, task state included. */
  budgetTokens: number;
  /** Default: {@link estimateTokens}. */
  countTokens?: TokenCounter;
}

export interface WorkingMemory {
  /** The task state message (when any) followed by the kept messages, oldest first. */
  messages: ChatMessage[];
  tokens: number;
  /** Messages left out (too old or over budget). */
  dropped: number;
}

/** Tokens of one message as the working memory counts them. */
export function messageTokens(message: ChatMessage, countTokens: TokenCounter = estimateTokens): number {
  let tokens = MESSAGE_OVERHEAD_TOKENS + countTokens(message.content);
  if (message.role === 'assistant' && message.toolCalls) {
    for (const call of message.toolCalls) tokens += MESSAGE_OVERHEAD_TOKENS + countTokens(call.name + call.arguments);
  }
  return tokens;
}

/** The task state as the system message the working memory starts with. */
export function taskStateMessage(taskState: unknown): SystemMessage {
  const text = typeof taskState === 'string' ? taskState : JSON.stringify(taskState, null, 0);
  return { role: 'system', content: `Current task state:\n${text}` };
}

/**
 * The last `maxMessages` messages plus the task state, fitted to `budgetTokens` by core's one
 * trimming policy ({@link historyWindow}): the oldest go first; the newest turn always stays. A
 * kept tool result never loses the assistant message that asked for it, so the history stays valid.
 */
export function buildWorkingMemory(options: WorkingMemoryOptions): WorkingMemory {
  const countTokens = options.countTokens ?? estimateTokens;
  const maxMessages = options.maxMessages ?? 20;
  if (!Number.isInteger(maxMessages) || maxMessages < 1) {
    throw invalidArgument(`maxMessages must be a positive integer, got ${maxMessages}`);
  }
  if (!Number.isFinite(options.budgetTokens) || options.budgetTokens < 0) {
    throw invalidArgument(`budgetTokens must be a non-negative number, got ${options.budgetTokens}`);
  }
  const conversation = options.messages.filter((message) => message.role !== 'system');
  const state = options.taskState === undefined ? undefined : taskStateMessage(options.taskState);
  const stateTokens = state ? messageTokens(state, countTokens) : 0;
  const window = historyWindow(conversation, {
    maxMessages,
    maxTokens: options.budgetTokens - stateTokens,
    countTokens: (message) => messageTokens(message, countTokens),
  });
  const kept = conversation.slice(window.start);
  const messages = state ? [state, ...kept] : kept;
  return { messages, tokens: stateTokens + window.tokens, dropped: window.start };
}
