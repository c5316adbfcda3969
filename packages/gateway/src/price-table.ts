import { parseWith, type Usage } from '@agentrix/core';
import { z } from 'zod';

/** What one model costs and how much it takes, per 1M tokens in USD. */
export const ModelInfoSchema = z.object({
  /** USD per 1M input tokens. */
  inputPerMillion: z.number().finite().nonnegative(),
  /** USD per 1M output tokens. */
  outputPerMillion: z.number().finite().nonnegative(),
  /** USD per 1M cached input tokens. Default: the input price. */
  cachedInputPerMillion: z.number().finite().nonnegative().optional(),
  /** Tokens the model accepts, prompt and answer together. */
  contextWindow: z.number().int().positive(),
  /** The most output tokens one answer can have: no call reserves or asks for more. */
  maxOutputTokens: z.number().int().positive(),
  /**
   * The output allowance of a call that sets no `maxTokens` (reserved, and sent as the output
   * cap). Default: the gateway's `defaultOutputTokens` (2,048), at most `maxOutputTokens`.
   * Reasoning models count their reasoning in it: give them more.
   */
  defaultOutputTokens: z.number().int().positive().optional(),
  /** The provider (a key of the gateway's `providers`) that serves it. Default `default`. */
  provider: z.string().min(1).optional(),
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

export const PriceTableSchema = z.record(z.string().min(1), ModelInfoSchema);
/** Models by provider model name. */
export type PriceTable = z.infer<typeof PriceTableSchema>;

/**
 * OpenAI list prices (USD per 1M tokens) for the common chat models. Hosts override or extend
 * it with the gateway's `models` option; check the provider's pricing page before relying on it.
 */
export const DEFAULT_PRICE_TABLE: Readonly<PriceTable> = Object.freeze({
  'gpt-4o': {
    inputPerMillion: 2.5,
    outputPerMillion: 10,
    cachedInputPerMillion: 1.25,
    contextWindow: 128_000,
    maxOutputTokens: 16_384,
  },
  'gpt-4o-mini': {
    inputPerMillion: 0.15,
    outputPerMillion: 0.6,
    cachedInputPerMillion: 0.075,
    contextWindow: 128_000,
    maxOutputTokens: 16_384,
  },
  'gpt-4.1': {
    inputPerMillion: 2,
    outputPerMillion: 8,
    cachedInputPerMillion: 0.5,
    contextWindow: 1_047_576,
    maxOutputTokens: 32_768,
  },
  'gpt-4.1-mini': {
    inputPerMillion: 0.4,
    outputPerMillion: 1.6,
    cachedInputPerMillion: 0.1,
    contextWindow: 1_047_576,
    maxOutputTokens: 32_768,
  },
  'gpt-4.1-nano': {
    inputPerMillion: 0.1,
    outputPerMillion: 0.4,
    cachedInputPerMillion: 0.025,
    contextWindow: 1_047_576,
    maxOutputTokens: 32_768,
  },
});

/** What one embedding model costs, per 1M input tokens in USD (embeddings have no output tokens). */
export const EmbeddingModelInfoSchema = z.object({
  /** USD per 1M input tokens. */
  inputPerMillion: z.number().finite().nonnegative(),
  /** Tokens one input text may have (informational; the provider enforces it). */
  maxInputTokens: z.number().int().positive().optional(),
});
export type EmbeddingModelInfo = z.infer<typeof EmbeddingModelInfoSchema>;

export const EmbeddingPriceTableSchema = z.record(z.string().min(1), EmbeddingModelInfoSchema);
/** Embedding models by provider model name. */
export type EmbeddingPriceTable = z.infer<typeof EmbeddingPriceTableSchema>;

/**
 * OpenAI list prices (USD per 1M input tokens) for the embedding models. Hosts override or extend
 * it with the gateway's `embeddingModels` option.
 */
export const DEFAULT_EMBEDDING_PRICE_TABLE: Readonly<EmbeddingPriceTable> = Object.freeze({
  'text-embedding-3-small': { inputPerMillion: 0.02, maxInputTokens: 8191 },
  'text-embedding-3-large': { inputPerMillion: 0.13, maxInputTokens: 8191 },
  'text-embedding-ada-002': { inputPerMillion: 0.1, maxInputTokens: 8191 },
});

/** Validates an embedding price table, like {@link parsePriceTable}. */
export function parseEmbeddingPriceTable(table: unknown): EmbeddingPriceTable {
  return parseWith(EmbeddingPriceTableSchema, table, 'INVALID_ARGUMENT', 'embedding price table');
}

/** Validates a price table; a bad entry is an `INVALID_ARGUMENT` naming the model and the field. */
export function parsePriceTable(table: unknown): PriceTable {
  return parseWith(PriceTableSchema, table, 'INVALID_ARGUMENT', 'price table');
}

/** Nano-dollars (1e-9 USD) per token for 1 USD per 1M tokens: money is counted in integers. */
const NANO_PER_TOKEN_PER_USD_PER_MILLION = 1_000;

/** USD to integer nano-dollars, rounded up (a reservation never undershoots). */
export function usdToNano(usd: number): number {
  return Math.ceil(usd * 1e9 - 1e-6);
}

export function nanoToUsd(nano: number): number {
  return nano / 1e9;
}

/** The cost of `usage` on `model` in nano-dollars, rounded up. */
export function costNano(model: ModelInfo, usage: Usage): number {
  const cached = Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const cachedPrice = model.cachedInputPerMillion ?? model.inputPerMillion;
  const cost =
    (usage.inputTokens - cached) * model.inputPerMillion +
    cached * cachedPrice +
    usage.outputTokens * model.outputPerMillion;
  return Math.ceil(cost * NANO_PER_TOKEN_PER_USD_PER_MILLION);
}

/** The cost of embedding `inputTokens` on `model` in nano-dollars, rounded up. */
export function embeddingCostNano(model: EmbeddingModelInfo, inputTokens: number): number {
  return Math.ceil(inputTokens * model.inputPerMillion * NANO_PER_TOKEN_PER_USD_PER_MILLION);
}
