export type {
  BudgetCounter,
  BudgetReservation,
  BudgetReserveLine,
  BudgetReserveResult,
  BudgetSettleLine,
  BudgetSettlement,
  BudgetSettleResult,
  BudgetStore,
  ReleasedReservation,
} from '@agentrix/core';
export type { RedisClientLike } from '@agentrix/core/implement';
export type { BudgetStatus } from './budget-status.js';
export { InMemoryBudgetStore } from './budget-store.js';
export { canonicalJson, embeddingCacheKey, responseCacheKey } from './cache-key.js';
export type { CacheStore, InMemoryLruCacheOptions } from './cache-store.js';
export { InMemoryLruCache } from './cache-store.js';
export type { CachedEmbedderOptions } from './cached-embedder.js';
export { createCachedEmbedder } from './cached-embedder.js';
export type { Gateway } from './gateway.js';
export { createGateway } from './gateway.js';
export type { EmbeddingResult, GatewayEmbedderOptions, UsageReportingEmbedder } from './gateway-embedder.js';
export type {
  BudgetLineEvent,
  DegradationReason,
  DegradationStep,
  GatewayEventMap,
  GatewayEventName,
} from './gateway-events.js';
export type {
  BudgetInput,
  CompactMessages,
  GatewayOptions,
  LimitScope,
  RateLimitInput,
  TemplateAnswer,
  TierRule,
} from './gateway-options.js';
export type { DailyReport, LedgerQuery, LedgerRecord, LedgerStore, UsageTotals } from './ledger.js';
export { buildDailyReport, InMemoryLedger } from './ledger.js';
export { OpenAIProvider } from './openai-provider.js';
export type { OpenAIProviderOptions } from './openai-provider-options.js';
export type { EmbeddingModelInfo, EmbeddingPriceTable, ModelInfo, PriceTable } from './price-table.js';
export {
  costNano,
  DEFAULT_EMBEDDING_PRICE_TABLE,
  DEFAULT_PRICE_TABLE,
  parseEmbeddingPriceTable,
  parsePriceTable,
} from './price-table.js';
export type { FitPromptOptions, FitPromptResult } from './prompt-budget.js';
export { fitPrompt } from './prompt-budget.js';
export { mapProviderError } from './provider-errors.js';
export type { RedisBudgetStoreOptions } from './redis-budget-store.js';
export { RedisBudgetStore } from './redis-budget-store.js';
export type { RedisCacheOptions } from './redis-cache.js';
export { RedisCache } from './redis-cache.js';
export { countMessageTokens, countPromptTokens, countTextTokens } from './tokens.js';
