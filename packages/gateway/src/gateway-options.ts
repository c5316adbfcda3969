import type {
  AgentrixEvents,
  BudgetStore,
  CallScope,
  ChatMessage,
  ChatModel,
  ChatRequest,
  ChatResponse,
  Clock,
  IdGenerator,
  Logger,
} from '@agentrix/core';
import { z } from 'zod';
import type { CacheStore } from './cache-store.js';
import type { DegradationReason } from './gateway-events.js';
import type { LedgerStore } from './ledger.js';
import { EmbeddingModelInfoSchema, ModelInfoSchema } from './price-table.js';

/**
 * Whom a budget or rate limit applies to. `'global'` is every call. An id of `'*'` makes one
 * budget per distinct value (`{ agentId: '*' }`: each agent gets its own cap).
 */
export const LimitScopeSchema = z.union([
  z.literal('global'),
  z.strictObject({ agentId: z.string().min(1) }),
  z.strictObject({ userId: z.string().min(1) }),
  z.strictObject({ workflowId: z.string().min(1) }),
  z.strictObject({ tag: z.string().min(1) }),
]);
export type LimitScope = z.infer<typeof LimitScopeSchema>;

export const BudgetSchema = z
  .strictObject({
    /** Names the budget in events, errors and keys. Default: built from scope and period. */
    id: z.string().min(1).max(200).optional(),
    scope: LimitScopeSchema,
    /** The window the cap applies to, in UTC: a calendar day, a calendar month, or forever. */
    period: z.enum(['day', 'month', 'total']),
    /** Cap in US dollars. */
    usd: z.number().finite().positive().optional(),
    /** Cap in tokens (input + output). */
    tokens: z.number().int().positive().optional(),
  })
  .refine((budget) => budget.usd !== undefined || budget.tokens !== undefined, {
    message: 'a budget needs a cap: set usd, tokens or both',
  });
export type BudgetInput = z.input<typeof BudgetSchema>;

export const RateLimitSchema = z
  .strictObject({
    id: z.string().min(1).max(200).optional(),
    scope: LimitScopeSchema,
    callsPerMinute: z.number().int().positive().optional(),
    tokensPerMinute: z.number().int().positive().optional(),
    /** How long a call may wait for room before failing with RATE_LIMITED. Default 0 (fail at once). */
    maxWaitMs: z.number().int().nonnegative().default(0),
  })
  .refine((limit) => limit.callsPerMinute !== undefined || limit.tokensPerMinute !== undefined, {
    message: 'a rate limit needs callsPerMinute, tokensPerMinute or both',
  });
export type RateLimitInput = z.input<typeof RateLimitSchema>;

export const GatewayConfigSchema = z.strictObject({
  /** Shown in logs and events. Default `gateway`. */
  name: z.string().min(1).default('gateway'),
  /** Models by provider name, merged over `DEFAULT_PRICE_TABLE` (an entry replaces the default one). */
  models: z.record(z.string().min(1), ModelInfoSchema).default({}),
  /**
   * Embedding models (USD per 1M input tokens), merged over `DEFAULT_EMBEDDING_PRICE_TABLE`: what
   * `gateway.embedder()` charges.
   */
  embeddingModels: z.record(z.string().min(1), EmbeddingModelInfoSchema).default({}),
  /** Tier name -> model, from the largest to the smallest. Default `{ large: 'gpt-4o', small: 'gpt-4o-mini' }`. */
  tiers: z.record(z.string().min(1), z.string().min(1)).optional(),
  /** The tier of calls that name neither a tier nor a model. Default: the smallest tier. */
  defaultTier: z.string().min(1).optional(),
  budgets: z.array(BudgetSchema).default([]),
  /**
   * Step down to a smaller tier when a reservation would leave less than this share of a
   * budget. Default 0.1; 0 steps down only when the budget is out.
   */
  lowBudgetRatio: z.number().min(0).max(1).default(0.1),
  /** Extra share of counted prompt tokens reserved, for tokenizer differences. Default 0.1. */
  reservationMargin: z.number().min(0).max(10).default(0.1),
  /**
   * The output allowance of a call that sets no `maxTokens`: reserved, and sent to the provider
   * as its output cap (a model's `defaultOutputTokens` in the price table wins; never above its
   * `maxOutputTokens`). An answer that needs more is cut with finish reason `length`: set
   * `maxTokens` on the call to allow more. Default 2,048 (about 10x a typical agent step, where
   * reserving gpt-4o-mini's whole 16,384-token cap was about 79x).
   */
  defaultOutputTokens: z.number().int().positive().default(2_048),
  /** How budget reservations survive a crash of the process that holds them. */
  reservations: z
    .strictObject({
      /**
       * Who holds this gateway's reservations. Give each host process a stable id of its own
       * (`worker-1`, a pod name) and a restarted process releases, when it starts, whatever its
       * previous run reserved and never settled. Never share one id between processes running at
       * the same time: each would release the other's calls in flight. Default: a random id per
       * gateway (what a killed run held is then released when it expires).
       */
      holderId: z.string().min(1).max(200).optional(),
      /**
       * How long a reservation holds before a sweep may release it (its holder presumed dead).
       * Keep it above your longest call, retries included. Default 10 minutes.
       */
      ttlMs: z.number().int().positive().default(600_000),
      /** How often expired reservations are swept (background timer; 0: only at start). Default 1 minute. */
      sweepIntervalMs: z.number().int().nonnegative().default(60_000),
    })
    .default({ ttlMs: 600_000, sweepIntervalMs: 60_000 }),
  rateLimits: z.array(RateLimitSchema).default([]),
  cache: z
    .union([
      z.literal(false),
      z.strictObject({
        /** Default 1 hour. */
        ttlMs: z.number().int().positive().default(3_600_000),
        /** Entries of the default in-memory LRU. Default 1,000. */
        maxEntries: z.number().int().positive().default(1_000),
      }),
    ])
    .default(false),
  retry: z
    .strictObject({
      /**
       * Attempts in all for one call, counting the first. The gateway is then the one layer that
       * retries (`managesRetries`): the runtime makes one attempt per step. Default 2.
       */
      attempts: z.number().int().min(1).max(10).default(2),
      baseDelayMs: z.number().int().min(0).default(250),
      maxDelayMs: z.number().int().min(0).default(10_000),
      /** A provider `retry-after` longer than this is not waited for: the error goes up. Default 30 s. */
      maxRetryAfterMs: z.number().int().min(0).default(30_000),
    })
    .default({ attempts: 2, baseDelayMs: 250, maxDelayMs: 10_000, maxRetryAfterMs: 30_000 }),
  degradation: z
    .strictObject({
      /** Offer "plan only" (no tools, a short answer on the smallest tier) before refusing. Default true. */
      planOnly: z.boolean().default(true),
      /** Output cap of a plan-only answer. Default 512. */
      planOnlyMaxTokens: z.number().int().positive().default(512),
      planOnlyInstruction: z
        .string()
        .default(
          'The budget for this work is nearly spent. Do not call tools. Reply with a short plan of the next steps only.',
        ),
      /** On a provider 429, move to the next smaller tier before waiting. Default true. */
      fallbackOnRateLimit: z.boolean().default(true),
    })
    .default({
      planOnly: true,
      planOnlyMaxTokens: 512,
      planOnlyInstruction:
        'The budget for this work is nearly spent. Do not call tools. Reply with a short plan of the next steps only.',
      fallbackOnRateLimit: true,
    }),
});
export type GatewayConfig = z.output<typeof GatewayConfigSchema>;

/** Picks a tier for a request before its own `tier` is considered; `undefined` passes. */
export type TierRule = (request: ChatRequest, info: { promptTokens: number }) => string | undefined;

/** The host hook of the "retrieval + template" step: an answer without a model, or `undefined` to pass. */
export type TemplateAnswer = (
  request: ChatRequest,
  info: { reason: DegradationReason; scope: CallScope },
) => string | undefined | Promise<string | undefined>;

/**
 * Replaces messages the prompt budget is about to drop (oldest first) by one message, a summary
 * for instance. Return `undefined` to drop them.
 */
export type CompactMessages = (
  dropped: readonly ChatMessage[],
  info: { model: string; signal?: AbortSignal },
) => ChatMessage | undefined | Promise<ChatMessage | undefined>;

export type GatewayOptions = z.input<typeof GatewayConfigSchema> & {
  /** The provider of every model without a `provider` field: shorthand for `providers: { default }`. */
  provider?: ChatModel;
  /** Providers by name; a model's `provider` field picks one (default `default`). */
  providers?: Record<string, ChatModel>;
  /** Rules that choose a tier first, in order; the first that returns a tier wins. */
  rules?: readonly TierRule[];
  templateAnswer?: TemplateAnswer;
  compact?: CompactMessages;
  /** Default: in memory (closed with the gateway); a store passed in is left open. */
  budgetStore?: BudgetStore;
  /** Default: an in-memory LRU when `cache` is set. */
  cacheStore?: CacheStore<ChatResponse>;
  /** Default: in memory. */
  ledger?: LedgerStore;
  /** The stream to emit on (give the runtime's to get one stream). Default: a new `AgentrixEvents`, as `gateway.events`. */
  events?: AgentrixEvents;
  clock?: Clock;
  generateId?: IdGenerator;
  logger?: Logger;
};
