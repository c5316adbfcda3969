import type { Clock } from '@agentrix/core';
import type OpenAI from 'openai';
import { z } from 'zod';

export const OpenAIProviderOptionsSchema = z.object({
  /** The API key. Default: `OPENAI_API_KEY` from the environment (read by the `openai` client). */
  apiKey: z.string().min(1).optional(),
  /** Any OpenAI-compatible server (Ollama, vLLM, LiteLLM, ...). Default: `OPENAI_BASE_URL`, else api.openai.com. */
  baseURL: z.string().url().optional(),
  /** The chat model used when a request names none. Default `gpt-4o-mini`. */
  model: z.string().min(1).default('gpt-4o-mini'),
  /** The embeddings model. Default `text-embedding-3-small`. */
  embeddingModel: z.string().min(1).default('text-embedding-3-small'),
  /** Vector size. When set it is also sent as `dimensions`; default 1536 (not sent). */
  embeddingDimensions: z.number().int().positive().optional(),
  /** Per-request timeout. Default 120 s. */
  timeoutMs: z.number().int().positive().default(120_000),
  /**
   * The body field for the output cap. Default `max_completion_tokens` on api.openai.com
   * (required by reasoning models), `max_tokens` when a `baseURL` is given (what most
   * compatible servers read).
   */
  maxTokensField: z.enum(['max_tokens', 'max_completion_tokens']).optional(),
  /** Extra headers on every request. */
  headers: z.record(z.string(), z.string()).optional(),
  organization: z.string().optional(),
  project: z.string().optional(),
  /** Shown in logs and events. Default `openai`. */
  name: z.string().min(1).default('openai'),
});

export type OpenAIProviderOptions = z.input<typeof OpenAIProviderOptionsSchema> & {
  /** A client of your own (left as is on `close()`); the connection options above are then ignored. */
  client?: OpenAI;
  /** For `retry-after` dates. Default: the system clock. */
  clock?: Clock;
};
