import type { ToolDefinition } from '@agentrix/core';
import { AgentrixError, type ChatMessage } from '@agentrix/core';
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
 * Fits a conversation into `budget` tokens: system messages and tool definitions stay, the
 * newest turn stays, and the oldest other messages go first — an assistant message that called
 * tools goes together with the tool results that answer it, so the history stays valid. With a
 * `compact` hook the dropped messages come back as the one message it returns (a summary).
 * Throws CONTEXT_LENGTH_EXCEEDED when even the kept messages do not fit.
 */
export async function fitPrompt(options: FitPromptOptions): Promise<FitPromptResult> {
  const { messages, budget } = options;
  const fixed = REPLY_PRIMING_TOKENS + countToolTokens(options.tools);
  let total = fixed;
  for (const message of messages) total += countMessageTokens(message);
  if (total <= budget) return { messages: [...messages], dropped: 0, tokensBefore: total, tokensAfter: total };

  const system = messages.filter((message) => message.role === 'system');
  const rest = messages.filter((message) => message.role !== 'system');
  const groups = groupMessages(rest);
  let kept = total;
  const dropped: ChatMessage[] = [];
  // Never drop the newest group: it is what the model must answer.
  while (kept > budget && groups.length > 1) {
    const group = groups.shift()!;
    for (const message of group) {
      kept -= countMessageTokens(message);
      dropped.push(message);
    }
  }
  let summary: ChatMessage | undefined;
  if (dropped.length > 0 && options.compact) {
    summary = await options.compact(dropped, {
      model: options.model,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (summary) {
      kept += countMessageTokens(summary);
      while (kept > budget && groups.length > 1) {
        for (const message of groups.shift()!) {
          kept -= countMessageTokens(message);
          dropped.push(message);
        }
      }
    }
  }
  if (kept > budget) {
    throw new AgentrixError(
      'CONTEXT_LENGTH_EXCEEDED',
      `The prompt for ${options.model} needs ${kept} tokens after dropping ${dropped.length} old messages, but only ${budget} fit (context window minus output tokens); shorten the system prompt, the tools or the last message, or lower maxTokens`,
      { retryable: false, details: { tokens: kept, budget } },
    );
  }
  const out: ChatMessage[] = [...system];
  if (summary) out.push(summary);
  for (const group of groups) out.push(...group);
  return { messages: out, dropped: dropped.length, tokensBefore: total, tokensAfter: kept };
}

/** Splits messages into droppable units: a user message, or an assistant message with its tool results. */
function groupMessages(messages: readonly ChatMessage[]): ChatMessage[][] {
  const groups: ChatMessage[][] = [];
  for (const message of messages) {
    const last = groups[groups.length - 1];
    if (message.role === 'tool' && last) last.push(message);
    else groups.push([message]);
  }
  return groups;
}
