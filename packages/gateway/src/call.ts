import type { BudgetStore } from '@agentrix/core';
import {
  AgentrixError,
  type AgentrixEvents,
  type CallScope,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type ChatStreamPart,
  type Clock,
  type IdGenerator,
  type Logger,
  type Usage,
} from '@agentrix/core';
import type { CacheStore } from './cache-store.js';
import type { DegradationStep } from './gateway-events.js';
import type { CompactMessages, GatewayConfig, TemplateAnswer, TierRule } from './gateway-options.js';
import type { LedgerStore } from './ledger.js';
import type { EmbeddingModelInfo, ModelInfo, PriceTable } from './price-table.js';
import { countTextTokens } from './tokens.js';

/** Everything the layers share, fixed when the gateway is created. */
export interface GatewayContext {
  config: GatewayConfig;
  models: PriceTable;
  /** Tier names, largest first. */
  tierOrder: string[];
  tiers: Record<string, string>;
  defaultTier: string;
  providers: Record<string, ChatModel>;
  rules: readonly TierRule[];
  templateAnswer: TemplateAnswer | undefined;
  compact: CompactMessages | undefined;
  budgetStore: BudgetStore;
  cacheStore: CacheStore<ChatResponse> | undefined;
  ledger: LedgerStore;
  /** Ledger appends still in flight: `report()` and `close()` wait for them. */
  pendingLedgerWrites: Set<Promise<void>>;
  events: AgentrixEvents;
  clock: Clock;
  generateId: IdGenerator;
  logger: Logger | undefined;
  reservations: ReservationSettings;
}

/** How this gateway holds budget reservations (see `reservations` in the options). */
export interface ReservationSettings {
  /** This gateway's holder id: stable across restarts when the host sets one. */
  holder: string;
  ttlMs: number;
  /** Resolves once what a previous run of this holder left (and expired reservations) is released. */
  ready: Promise<void>;
  /** Numbers this gateway's reservations. */
  sequence: number;
}

/** What every call the gateway budgets and meters has, chat or embedding. */
export interface MeteredCall {
  id: string;
  startedAt: number;
  scope: CallScope;
  /** The model the call runs on (the ledger's `model`). */
  model: string;
}

/** One chat call on its way through the layers. Layers read and update it. */
export interface GatewayCall extends MeteredCall {
  stream: boolean;
  /** The request as the next layer should send it (layers may replace it). */
  request: ChatRequest;
  /** What the caller asked for: a tier name or a model. */
  requested: string;
  /** The tier in use, when the model came from a tier. */
  tier: string | undefined;
  /** The tiers to step down through (from the requested one), when the model came from a tier. */
  ladder: string[];
  info: ModelInfo;
  /** Counted prompt tokens of the original request. */
  promptTokens: number;
  /** The output cap sent to the provider (and reserved). */
  maxOutputTokens: number;
  degradedFrom?: string;
  degradation?: DegradationStep;
  /** Set by the budget layer when the model changed after the cache key was taken (no caching then). */
  modelChanged?: boolean;
  cacheHit: boolean;
  /** Output seen so far: text and tool-call arguments, for estimates when a stream breaks. */
  outputText: string;
  response: ChatResponse | undefined;
  /** Whether a request reached the provider (a failure after that may have been billed). */
  sent: boolean;
  /** What the provider said a failed attempt used (`details.partialUsage` of its error). */
  partialUsage?: Usage;
  /** The usage charged, once known (see {@link chargedUsage}). */
  charged?: Usage;
  /**
   * Set by the budget layer while it holds a reservation: charges an attempt that failed and is
   * about to be retried, and reserves the worst case again for the next one (throws
   * `BUDGET_EXCEEDED` when that no longer fits).
   */
  chargeAttempt?: (usage: Usage, cause: AgentrixError) => Promise<void>;
}

/** One embedding call on its way through the layers (the texts the cache did not answer). */
export interface EmbeddingCall extends MeteredCall {
  info: EmbeddingModelInfo;
  texts: string[];
  signal: AbortSignal | undefined;
  /** The input tokens counted locally: the worst case reserved, and the charge when the provider reports none. */
  countedTokens: number;
  /** What the provider call used, once it answered. */
  usage: { inputTokens: number; estimated: boolean };
}

/**
 * The gateway's one middleware shape: a step that gets a call and the rest of the pipeline. Chat
 * and embedding calls go through the same kind of steps (the AI SDK's `wrapLanguageModel` /
 * `wrapEmbeddingModel`), so budget and metering are written once for both.
 */
export type Middleware<C, R> = (call: C, next: (call: C) => R) => R;

export type Next = (call: GatewayCall) => AsyncGenerator<ChatStreamPart, void, undefined>;
export type Layer = Middleware<GatewayCall, AsyncGenerator<ChatStreamPart, void, undefined>>;
export type EmbeddingNext = (call: EmbeddingCall) => Promise<number[][]>;
export type EmbeddingLayer = Middleware<EmbeddingCall, Promise<number[][]>>;

/** One concern of the gateway (budget, metering, ...), for the kinds of call it applies to. */
export interface GatewayMiddleware {
  chat?: Layer;
  embed?: EmbeddingLayer;
}

/** Wraps `inner` in `layers`, the first one outermost. */
export function compose<C, R>(layers: readonly Middleware<C, R>[], inner: (call: C) => R): (call: C) => R {
  return layers.reduceRight<(call: C) => R>((next, layer) => (call) => layer(call, next), inner);
}

const ZERO_USAGE: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0 }) as Usage;

/**
 * What the call (its current attempt) costs: nothing for a cache hit or a template answer, the
 * provider's usage when an answer came, what the provider's error says was used when an answer
 * came but could not be read (a malformed body, a broken stream: `details.partialUsage`), else an
 * estimate (prompt plus the output seen) when a stream was abandoned after the request was sent,
 * and nothing when it failed before the provider answered.
 */
export function chargedUsage(call: GatewayCall): Usage {
  if (call.charged) return call.charged;
  let usage: Usage;
  if (call.cacheHit || call.degradation === 'template') usage = ZERO_USAGE;
  else if (call.response) usage = call.response.usage;
  else if (call.partialUsage) usage = call.partialUsage;
  else if (call.sent && call.outputText.length > 0) {
    usage = { inputTokens: call.promptTokens, outputTokens: countTextTokens(call.outputText), estimated: true };
  } else usage = ZERO_USAGE;
  call.charged = usage;
  return usage;
}

/** True when `usage` costs nothing. */
export function isZeroUsage(usage: Usage): boolean {
  return usage.inputTokens === 0 && usage.outputTokens === 0;
}

/** Forgets what one attempt left on the call, before the next attempt. */
export function resetAttempt(call: GatewayCall): void {
  call.sent = false;
  call.outputText = '';
  call.response = undefined;
  delete call.partialUsage;
  delete call.charged;
}

/** The usage a provider error says its attempt used (`details.partialUsage`), when it says so. */
export function partialUsageOf(error: unknown): Usage | undefined {
  if (!AgentrixError.isInstance(error)) return undefined;
  const usage = error.details?.partialUsage as Partial<Usage> | undefined;
  if (typeof usage !== 'object' || usage === null) return undefined;
  const { inputTokens, outputTokens } = usage;
  if (!isCount(inputTokens) || !isCount(outputTokens)) return undefined;
  const out: Usage = { inputTokens, outputTokens };
  if (isCount(usage.cachedInputTokens)) out.cachedInputTokens = usage.cachedInputTokens;
  if (usage.estimated === true) out.estimated = true;
  return out;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
