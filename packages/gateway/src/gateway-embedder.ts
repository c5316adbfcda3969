import { AgentrixError, type CallScope, type Embedder } from '@agentrix/core';
import { type CacheStore, InMemoryLruCache } from './cache-store.js';
import { createCachedEmbedder } from './cached-embedder.js';
import {
  compose,
  type EmbeddingCall,
  type EmbeddingNext,
  type GatewayContext,
  type GatewayMiddleware,
} from './call.js';
import type { EmbeddingModelInfo, EmbeddingPriceTable } from './price-table.js';
import { countTextTokens } from './tokens.js';

/** What an embedding call returned, with the input tokens the provider reported (if it did). */
export interface EmbeddingResult {
  vectors: number[][];
  usage?: { inputTokens: number };
}

/**
 * An {@link Embedder} that also reports the provider's token usage ({@link OpenAIProvider} is
 * one). The gateway's metered embedder uses it when present and counts tokens locally otherwise.
 */
export interface UsageReportingEmbedder extends Embedder {
  embedWithUsage(texts: string[], options?: { signal?: AbortSignal }): Promise<EmbeddingResult>;
}

export interface GatewayEmbedderOptions {
  /** Embeds the texts: an `OpenAIProvider` (any OpenAI-compatible server), or any {@link Embedder}. */
  provider: Embedder;
  /**
   * The embedding model, a key of the gateway's embedding price table (`embeddingModels`, merged
   * over `DEFAULT_EMBEDDING_PRICE_TABLE`). Default: the provider's `embeddingModel` (an `OpenAIProvider`'s).
   */
  model?: string;
  /**
   * Where vectors are cached, per (model, dimensions, text). Default: an in-memory LRU of 10,000
   * vectors (closed with the gateway); a `RedisCache` keeps them across restarts and processes
   * (left open). `false`: no cache, every text goes to the provider.
   */
  cache?: CacheStore<number[]> | false;
  /** How long a cached vector lives. Default 7 days. */
  cacheTtlMs?: number;
}

/**
 * The gateway's embedder: each call the provider answers goes through the gateway's middleware
 * that applies to embeddings (metering, then budget: reserved and settled against the same budgets
 * as chat calls, worst case the locally counted input tokens plus `reservationMargin`, one ledger
 * record with the call's scope, `estimated` when the provider reported no usage). Texts found in
 * the cache cost nothing and leave no record; each distinct text of a batch goes to the provider once.
 */
export function createMeteredEmbedder(
  context: GatewayContext,
  middleware: readonly GatewayMiddleware[],
  prices: Readonly<EmbeddingPriceTable>,
  options: GatewayEmbedderOptions,
  own: (store: CacheStore<number[]>) => void,
): Embedder {
  const { provider } = options;
  const { model, info } = embeddingModel(options, prices);
  const layers = middleware.flatMap((step) => (step.embed ? [step.embed] : []));
  const pipeline = compose(layers, providerEmbed(provider));
  const metered: Embedder = {
    name: model,
    dimensions: provider.dimensions,
    async embed(texts, embedOptions = {}) {
      if (texts.length === 0) return [];
      return pipeline(startEmbedding(context, model, info, texts, embedOptions));
    },
  };
  if (options.cache === false) return metered;
  let store = options.cache;
  if (store === undefined) {
    store = new InMemoryLruCache<number[]>({ maxEntries: 10_000, now: () => context.clock.now() });
    own(store);
  }
  return createCachedEmbedder(metered, { store, ...(options.cacheTtlMs ? { ttlMs: options.cacheTtlMs } : {}) });
}

/** The embedding model of `options` and its price; `INVALID_ARGUMENT` / `MODEL_NOT_FOUND` when there is none. */
function embeddingModel(
  options: GatewayEmbedderOptions,
  prices: Readonly<EmbeddingPriceTable>,
): { model: string; info: EmbeddingModelInfo } {
  const { provider } = options;
  if (!provider || typeof provider.embed !== 'function') {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      'gateway.embedder needs `provider`: an Embedder such as OpenAIProvider',
    );
  }
  const model = options.model ?? (provider as { embeddingModel?: unknown }).embeddingModel;
  if (typeof model !== 'string' || model === '') {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `gateway.embedder needs \`model\` (the provider "${provider.name}" does not name its embedding model)`,
    );
  }
  const info = prices[model];
  if (!info) {
    throw new AgentrixError(
      'MODEL_NOT_FOUND',
      `Embedding model "${model}" is not in the gateway's embedding price table; add it to \`embeddingModels\` (known: ${Object.keys(prices).join(', ')})`,
      { details: { model } },
    );
  }
  return { model, info };
}

function startEmbedding(
  context: GatewayContext,
  model: string,
  info: EmbeddingModelInfo,
  texts: string[],
  options: { signal?: AbortSignal; scope?: CallScope },
): EmbeddingCall {
  return {
    id: context.generateId(),
    startedAt: context.clock.now(),
    scope: options.scope ?? {},
    model,
    info,
    texts,
    signal: options.signal,
    countedTokens: texts.reduce((sum, text) => sum + countTextTokens(text), 0),
    usage: { inputTokens: 0, estimated: false },
  };
}

/**
 * The innermost step: embeds the texts, and notes what the call used (the provider's usage, else
 * the local count, `estimated`) before checking the answer, so a bad answer is still charged.
 */
function providerEmbed(provider: Embedder): EmbeddingNext {
  return async (call) => {
    const signal = call.signal ? { signal: call.signal } : {};
    const result: EmbeddingResult =
      typeof (provider as Partial<UsageReportingEmbedder>).embedWithUsage === 'function'
        ? await (provider as UsageReportingEmbedder).embedWithUsage(call.texts, signal)
        : { vectors: await provider.embed(call.texts, signal) };
    call.usage = result.usage
      ? { inputTokens: result.usage.inputTokens, estimated: false }
      : { inputTokens: call.countedTokens, estimated: true };
    if (!Array.isArray(result.vectors) || result.vectors.length !== call.texts.length) {
      throw new AgentrixError(
        'MODEL_RESPONSE_INVALID',
        `Embedder ${provider.name} returned ${result.vectors?.length ?? 0} vectors for ${call.texts.length} texts`,
      );
    }
    return result.vectors;
  };
}
