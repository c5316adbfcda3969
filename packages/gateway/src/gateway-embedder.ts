import { AgentrixError, type CallScope, type Embedder, toAgentrixError } from '@agentrix/core';
import {
  budgetExceeded,
  budgetKeys,
  failureOf,
  type Line,
  type PreparedBudget,
  settleLine,
  toEvents,
} from './budget-layer.js';
import { type CacheStore, InMemoryLruCache } from './cache-store.js';
import { createCachedEmbedder } from './cached-embedder.js';
import type { GatewayContext } from './call.js';
import { type LedgerRecord, utcDay } from './ledger.js';
import { appendLedgerRecord } from './metering-layer.js';
import { type EmbeddingModelInfo, type EmbeddingPriceTable, nanoToUsd } from './price-table.js';
import { type Hold, reserve, settle } from './reservations.js';
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
 * The gateway's embedder: each call the provider answers is reserved and settled against the
 * same budgets as chat calls (worst case: the locally counted input tokens plus the gateway's
 * `reservationMargin`), then written to the ledger (model, input tokens, cost, the call's scope,
 * `estimated` when the provider reported no usage). Texts found in the cache cost nothing and
 * leave no record; each distinct text of a batch goes to the provider once.
 */
export function createMeteredEmbedder(
  context: GatewayContext,
  budgets: readonly PreparedBudget[],
  prices: Readonly<EmbeddingPriceTable>,
  options: GatewayEmbedderOptions,
  own: (store: CacheStore<number[]>) => void,
): Embedder {
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
  const metered: Embedder = {
    name: model,
    dimensions: provider.dimensions,
    embed: (texts, embedOptions = {}) => meteredEmbed(context, budgets, provider, model, info, texts, embedOptions),
  };
  if (options.cache === false) return metered;
  let store = options.cache;
  if (store === undefined) {
    store = new InMemoryLruCache<number[]>({ maxEntries: 10_000, now: () => context.clock.now() });
    own(store);
  }
  return createCachedEmbedder(metered, { store, ...(options.cacheTtlMs ? { ttlMs: options.cacheTtlMs } : {}) });
}

async function meteredEmbed(
  context: GatewayContext,
  budgets: readonly PreparedBudget[],
  provider: Embedder,
  model: string,
  info: EmbeddingModelInfo,
  texts: string[],
  options: { signal?: AbortSignal; scope?: CallScope },
): Promise<number[][]> {
  if (texts.length === 0) return [];
  const scope = options.scope ?? {};
  const id = context.generateId();
  const startedAt = context.clock.now();
  const counted = texts.reduce((sum, text) => sum + countTextTokens(text), 0);
  const cost = (tokens: number) => Math.ceil(tokens * info.inputPerMillion * 1_000);
  let held: Hold<Line> | undefined;
  let usage: { inputTokens: number; estimated: boolean } = { inputTokens: 0, estimated: false };
  let failure: unknown;
  try {
    const worst = Math.ceil(counted * (1 + context.config.reservationMargin));
    const lines: Line[] = [];
    for (const entry of budgetKeys(budgets, scope, startedAt)) {
      const expiry = entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt };
      if (entry.budget.usdNano !== undefined) {
        lines.push({
          key: entry.usdKey,
          limit: entry.budget.usdNano,
          amount: cost(worst),
          budget: entry.id,
          unit: 'usd',
          ...expiry,
        });
      }
      if (entry.budget.tokens !== undefined) {
        lines.push({
          key: entry.tokensKey,
          limit: entry.budget.tokens,
          amount: worst,
          budget: entry.id,
          unit: 'tokens',
          ...expiry,
        });
      }
    }
    if (lines.length > 0) {
      const { hold, result } = await reserve(context, id, lines);
      if (!result.ok) {
        const failure = failureOf(lines, result);
        const refused = budgetExceeded(failure);
        context.logger?.warn(
          { callId: id, budget: failure.line.budget, scope, code: refused.code, requested: model },
          'gateway: a budget refused an embedding call',
        );
        throw refused;
      }
      held = hold;
      if (context.events.has('budget.reserved')) {
        context.events.emit('budget.reserved', { callId: id, scope, model, lines: toEvents(lines) });
      }
    }
    const signal = options.signal ? { signal: options.signal } : {};
    const result: EmbeddingResult =
      typeof (provider as Partial<UsageReportingEmbedder>).embedWithUsage === 'function'
        ? await (provider as UsageReportingEmbedder).embedWithUsage(texts, signal)
        : { vectors: await provider.embed(texts, signal) };
    usage = result.usage
      ? { inputTokens: result.usage.inputTokens, estimated: false }
      : { inputTokens: counted, estimated: true };
    if (!Array.isArray(result.vectors) || result.vectors.length !== texts.length) {
      throw new AgentrixError(
        'MODEL_RESPONSE_INVALID',
        `Embedder ${provider.name} returned ${result.vectors?.length ?? 0} vectors for ${texts.length} texts`,
      );
    }
    return result.vectors;
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    const actualUsd = cost(usage.inputTokens);
    if (held) {
      await settle(
        context,
        id,
        held,
        held.lines.map((line) => settleLine(line, line.unit === 'usd' ? actualUsd : usage.inputTokens)),
      );
      if (usage.inputTokens === 0) {
        if (context.events.has('budget.released')) {
          context.events.emit('budget.released', { callId: id, scope, model, reason: 'error' });
        }
      } else if (context.events.has('budget.settled')) {
        context.events.emit('budget.settled', {
          callId: id,
          scope,
          model,
          lines: held.lines.map((line) => ({
            budget: line.budget,
            unit: line.unit,
            amount: line.unit === 'usd' ? nanoToUsd(actualUsd) : usage.inputTokens,
          })),
          estimated: usage.estimated,
        });
      }
    }
    const record: LedgerRecord = {
      id,
      at: startedAt,
      day: utcDay(startedAt),
      model,
      inputTokens: usage.inputTokens,
      outputTokens: 0,
      cachedInputTokens: 0,
      estimated: usage.estimated,
      costUsd: nanoToUsd(actualUsd),
      latencyMs: context.clock.now() - startedAt,
      stream: false,
      cacheHit: false,
    };
    if (scope.agentId !== undefined) record.agentId = scope.agentId;
    if (scope.userId !== undefined) record.userId = scope.userId;
    if (scope.workflowId !== undefined) record.workflowId = scope.workflowId;
    if (scope.tags !== undefined && scope.tags.length > 0) record.tags = [...scope.tags];
    if (failure !== undefined) {
      const error = toAgentrixError(failure);
      record.error = { code: error.code, message: error.message };
    }
    appendLedgerRecord(context, record, id);
  }
}
