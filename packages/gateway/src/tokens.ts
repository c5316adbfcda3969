import type { ChatMessage, ChatRequest, ToolDefinition } from '@agentrix/core';
import { MESSAGE_OVERHEAD_TOKENS } from '@agentrix/core/implement';
import { countTokens } from 'gpt-tokenizer';

/**
 * Token counting with `gpt-tokenizer` (o200k_base, the encoding of the GPT-4o / 4.1 / 5 family).
 * Other model families tokenize differently; counts are used for worst-case reservations,
 * which add a margin on top, and for fitting prompts into a context window.
 */

/** Tokens that prime the answer. */
export const REPLY_PRIMING_TOKENS = 3;

const messageTokens = new WeakMap<ChatMessage, number>();
const toolTokens = new WeakMap<readonly ToolDefinition[], number>();

/** Tokens of a plain text. */
export function countTextTokens(text: string): number {
  return text.length === 0 ? 0 : countTokens(text);
}

/** Tokens of one message, memoized per message object (conversations resend the same objects). */
export function countMessageTokens(message: ChatMessage): number {
  const known = messageTokens.get(message);
  if (known !== undefined) return known;
  let tokens = MESSAGE_OVERHEAD_TOKENS + countTextTokens(message.content);
  if (message.role === 'user' && message.name) tokens += 1 + countTextTokens(message.name);
  if (message.role === 'tool') tokens += countTextTokens(message.name) + countTextTokens(message.toolCallId);
  if (message.role === 'assistant' && message.toolCalls) {
    for (const call of message.toolCalls) {
      tokens += MESSAGE_OVERHEAD_TOKENS + countTextTokens(call.name) + countTextTokens(call.arguments);
    }
  }
  messageTokens.set(message, tokens);
  return tokens;
}

/** Tokens of tool definitions as sent to the model (their JSON), memoized per array. */
export function countToolTokens(tools: readonly ToolDefinition[] | undefined): number {
  if (!tools || tools.length === 0) return 0;
  const known = toolTokens.get(tools);
  if (known !== undefined) return known;
  const tokens = countTextTokens(JSON.stringify(tools));
  toolTokens.set(tools, tokens);
  return tokens;
}

/** Tokens of a whole prompt: messages, tool definitions, response format and priming. */
export function countPromptTokens(request: Pick<ChatRequest, 'messages' | 'tools' | 'responseFormat'>): number {
  let tokens = REPLY_PRIMING_TOKENS + countToolTokens(request.tools);
  for (const message of request.messages) tokens += countMessageTokens(message);
  if (request.responseFormat?.type === 'json_schema') tokens += countTextTokens(JSON.stringify(request.responseFormat));
  return tokens;
}
