import type { ToolDefinition } from '@agentrix/core';
import { AgentrixError, type ChatMessage } from '@agentrix/core';
import { historyWindow } from '@agentrix/core/implement';
import type { CompactMessages } from './gateway-options.js';
import { countMessageTokens, countToolTokens, REPLY_PRIMING_TOKENS } from './tokens.js';

export interface FitPromptOptions {
  messages: readonly ChatMessage[];
  tools?: readonly ToolDefinition[] | undefined;
  /** Tokens the prompt may take. */
  budget: number;
  /** Replaces the dropped messages (a summary); called once. */
  compact?: CompactMessages | undefined;
  model: string;
  signal?: AbortSignal | undefined;
}

export interface FitPromptResult {
  messages: ChatMessage[];
  dropped: number;
  tokensBefore: number;
  tokensAfter: number;
}

/**
 * Fits a conversation into `budget` tokens with core's one trimming policy ({@link historyWindow}):
 * system messages and tool definitions stay, the newest turn stays, and the oldest other messages
 * go first — an assistant message that called tools goes together with the tool results that
 * answer it, so the history stays valid. With a `compact` hook the dropped messages come back as
 * the one message it returns (a summary). Throws CONTEXT_LENGTH_EXCEEDED when even the kept
 * messages do not fit.
 */
export async function fitPrompt(options: FitPromptOptions): Promise<FitPromptResult> {
  const { messages, budget } = options;
  let fixed = REPLY_PRIMING_TOKENS + countToolTokens(options.tools);
  let total = fixed;
  for (const message of messages) total += countMessageTokens(message);
  if (total <= budget) return { messages: [...messages], dropped: 0, tokensBefore: total, tokensAfter: total };

  const system = messages.filter((message) => message.role === 'system');
  for (const message of system) fixed += countMessageTokens(message);
  let rest = messages.filter((message) => message.role !== 'system');
  let window = historyWindow(rest, { maxTokens: budget - fixed, countTokens: countMessageTokens });
  const dropped = rest.slice(0, window.start);
  rest = rest.slice(window.start);
  const summary =
    dropped.length > 0 && options.compact
      ? await options.compact(dropped, { model: options.model, ...(options.signal ? { signal: options.signal } : {}) })
      : undefined;
  if (summary) {
    // The summary takes room: fit what is left around it.
    fixed += countMessageTokens(summary);
    window = historyWindow(rest, { maxTokens: budget - fixed, countTokens: countMessageTokens });
    dropped.push(...rest.slice(0, window.start));
    rest = rest.slice(window.start);
  }
  const kept = fixed + window.tokens;
  if (kept > budget) {
    throw new AgentrixError(
      'CONTEXT_LENGTH_EXCEEDED',
      `The prompt for ${options.model} needs ${kept} tokens after dropping ${dropped.length} old messages, but only ${budget} fit (context window minus output tokens); shorten the system prompt, the tools or the last message, or lower maxTokens`,
      { retryable: false, details: { tokens: kept, budget } },
    );
  }
  return {
    messages: summary ? [...system, summary, ...rest] : [...system, ...rest],
    dropped: dropped.length,
    tokensBefore: total,
    tokensAfter: kept,
  };
}
