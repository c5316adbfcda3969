import type { ChatRequest, Usage } from '@agentrix/core';
import type OpenAI from 'openai';
import { toUsage } from './openai-messages.js';
import { countPromptTokens, countTextTokens } from './tokens.js';

/**
 * What an answer the provider sent but we could not read cost: the `usage` object it carries
 * when one can be parsed out of the body (a truncated or otherwise broken JSON document often
 * still has it), else an estimate marked `estimated`: the prompt, plus the answer text seen
 * before the body broke. The provider bills such an answer like any other.
 */
export function malformedAnswerUsage(request: ChatRequest, raw: string, parsed?: unknown): Usage {
  const reported =
    toUsage((parsed as { usage?: OpenAI.CompletionUsage } | undefined)?.usage) ?? toUsage(usageInText(raw));
  if (reported) return reported;
  return {
    inputTokens: countPromptTokens(request),
    outputTokens: countTextTokens(contentInText(raw)),
    estimated: true,
  };
}

/** The `"usage": { ... }` object of a body that does not parse as a whole, when that object does. */
function usageInText(raw: string): OpenAI.CompletionUsage | undefined {
  const match = /"usage"\s*:\s*\{/.exec(raw);
  if (!match) return undefined;
  const start = match.index + match[0].length - 1;
  let depth = 0;
  for (let index = start; index < raw.length; index++) {
    const char = raw[index];
    if (char === '{') depth++;
    else if (char === '}' && --depth === 0) {
      try {
        return JSON.parse(raw.slice(start, index + 1)) as OpenAI.CompletionUsage;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The text of the first `"content": "..."` string, as far as the body goes (cut or not). */
function contentInText(raw: string): string {
  const match = /"content"\s*:\s*"((?:[^"\\]|\\.)*)/.exec(raw);
  if (!match) return '';
  try {
    return JSON.parse(`"${match[1]!.replace(/\\$/, '')}"`) as string;
  } catch {
    return match[1]!;
  }
}
