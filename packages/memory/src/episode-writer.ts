import type { ChatMessage, ChatModel, ChatRequest } from '@agentrix/core';
import { formatIssues } from '@agentrix/core';
import { type EpisodeSummary, EpisodeSummarySchema, SUMMARY_INSTRUCTIONS } from './episode-summary.js';
import { callScope, type MemoryScope } from './scope.js';

export interface SummarizeOptions {
  model: ChatModel;
  tier: string;
  messages: readonly ChatMessage[];
  scope: MemoryScope;
  signal?: AbortSignal | undefined;
  /** Called when an attempt's JSON fails its schema. */
  onInvalid?: ((attempt: number, error: string) => void) | undefined;
}

export type SummarizeResult = { summary: EpisodeSummary } | { summary: undefined; error: string };

/** The exchange as plain text: one `role: content` line per message. */
export function transcript(messages: readonly ChatMessage[]): string {
  return messages
    .filter((message) => message.role !== 'system' && message.content.length > 0)
    .map((message) => `${message.role === 'user' && message.name ? message.name : message.role}: ${message.content}`)
    .join('\n');
}

function validate(text: string): { summary: EpisodeSummary } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text.trim().replace(/^```(?:json)?\s*|\s*```$/g, ''));
  } catch (error) {
    return { error: `not valid JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const parsed = EpisodeSummarySchema.safeParse(value);
  return parsed.success ? { summary: parsed.data } : { error: formatIssues(parsed.error) };
}

/**
 * Asks the small model for a structured summary (JSON output). An answer that fails the schema
 * is sent back once with the validation error; a second failure returns the error, and the
 * caller stores the episode as plain text flagged `unstructured`.
 */
export async function summarizeEpisode(options: SummarizeOptions): Promise<SummarizeResult> {
  const messages: ChatMessage[] = [
    { role: 'system', content: SUMMARY_INSTRUCTIONS },
    { role: 'user', content: transcript(options.messages) },
  ];
  let lastError = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    const request: ChatRequest = {
      messages,
      tier: options.tier,
      responseFormat: { type: 'json_object' },
      temperature: 0,
      scope: callScope(options.scope, 'memory.summary'),
    };
    if (options.signal) request.signal = options.signal;
    const response = await options.model.generate(request);
    const result = validate(response.message.content);
    if ('summary' in result) return result;
    lastError = result.error;
    options.onInvalid?.(attempt, result.error);
    messages.push(
      { role: 'assistant', content: response.message.content },
      {
        role: 'user',
        content: `That JSON does not match the schema: ${result.error}. Reply again with the corrected JSON object only.`,
      },
    );
  }
  return { summary: undefined, error: lastError };
}
