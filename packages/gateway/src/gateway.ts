import {
  AgentrixError,
  AgentrixEvents,
  type CallScope,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type Embedder,
  parseWith,
  randomId,
  systemClock,
} from '@agentrix/core';
import { z } from 'zod';
import { budgetKeys, budgetLayer, outputCap, type PreparedBudget, prepareBudgets } from './budget-layer.js';
import { type BudgetStore, InMemoryBudgetStore } from './budget-store.js';
import { cacheLayer } from './cache-layer.js';
import { type CacheStore, InMemoryLruCache } from './cache-store.js';
import type { GatewayCall, GatewayContext, Layer, Next } from './call.js';
import { createMeteredEmbedder, type GatewayEmbedderOptions } from './gateway-embedder.js';
import { GatewayConfigSchema, type GatewayOptions } from './gateway-options.js';
import { buildDailyReport, type DailyReport, InMemoryLedger, type LedgerStore, utcDay } from './ledger.js';
import { meteringLayer } from './metering-layer.js';
import {
  DEFAULT_EMBEDDING_PRICE_TABLE,
  DEFAULT_PRICE_TABLE,
  type EmbeddingPriceTable,
  nanoToUsd,
  type PriceTable,
  parseEmbeddingPriceTable,
  parsePriceTable,
  usdToNano,
} from './price-table.js';
import { promptBudgetLayer } from './prompt-budget-layer.js';
import { providerStep } from './provider-layer.js';
import { rateLimitLayer } from './rate-limit-layer.js';
import { startReservationKeeper } from './reservations.js';
import { retryLayer } from './retry-layer.js';
import { countPromptTokens } from './tokens.js';

/** The state of one budget for a scope, in its unit. */
export interface BudgetStatus {
  /** The budget id, with the scope value for `'*'` budgets (`agent:*:day[planner]`). */
  budget: string;
  period: 'day' | 'month' | 'total';
  unit: 'usd' | 'tokens';
  limit: number;
  spent: number;
  /** Held by calls in flight. */
  reserved: number;
  remaining: number;
}

/**
 * The LLM gateway: a {@link ChatModel} that runs every call through metering, budget, rate
 * limit, cache, retry and fallback, and prompt budget, in that order, before its provider.
 * Give it to the runtime as its model: `await createAgentrix({ gateway })`. It retries calls
 * itself (`managesRetries` is true), so the runtime makes one attempt per step on top of it.
 */
export interface Gateway extends ChatModel {
  /** The stream it emits on: `options.events`, else its own. */
  readonly events: AgentrixEvents;
  readonly ledger: LedgerStore;
  /** The merged price table. */
  readonly models: Readonly<PriceTable>;
  /** Tier -> model, largest first. */
  readonly tiers: Readonly<Record<string, string>>;
  /** Usage of one UTC day (default: today), in all and per agent, user, workflow and model. */
  report(options?: { day?: string }): Promise<DailyReport>;
  /** The merged embedding price table (USD per 1M input tokens). */
  readonly embeddingModels: Readonly<EmbeddingPriceTable>;
  /**
   * An {@link Embedder} whose calls are budgeted and metered like chat calls (one ledger record
   * per provider call, with the call's `scope`) and cached per (model, text), so each text is
   * embedded once. Give it to memory: `createMemory({ model: gateway, embedder: gateway.embedder({ provider }) })`.
   */
  embedder(options: GatewayEmbedderOptions): Embedder;
  /** Every budget a scope is under, for the current period. Default: the global ones. */
  budgetStatus(scope?: CallScope): Promise<BudgetStatus[]>;
  /**
   * Changes the caps of a configured budget at run time (the HQ's "adjust budget"): calls from
   * now on reserve against the new caps; what was spent stays spent. A cap left out is kept.
   * `NOT_FOUND` for an unknown id, `INVALID_ARGUMENT` for a cap that is not a positive number.
   */
  setBudget(id: string, caps: { usd?: number; tokens?: number }): void;
  /** Closes the stores the gateway created (never the ones passed in, nor the providers). Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const BudgetCapsSchema = z
  .strictObject({ usd: z.number().finite().positive().optional(), tokens: z.number().int().positive().optional() })
  .refine((caps) => caps.usd !== undefined || caps.tokens !== undefined, { message: 'give usd, tokens or both' });

const DEFAULT_TIERS: Record<string, string> = { large: 'gpt-4o', small: 'gpt-4o-mini' };

/**
 * Creates a gateway. Everything is checked here — the price table, tiers naming known models,
 * models naming known providers, budgets and rate limits — so a bad configuration fails now
 * with an `INVALID_ARGUMENT` (or `MODEL_NOT_FOUND`), not at the first call.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const {
    provider,
    providers: givenProviders,
    rules = [],
    templateAnswer,
    compact,
    budgetStore,
    cacheStore,
    ledger,
    events,
    clock = systemClock,
    generateId = randomId,
    logger,
    ...rest
  } = options;
  const config = parseWith(GatewayConfigSchema, rest, 'INVALID_ARGUMENT', 'gateway options');
  const models = parsePriceTable({ ...DEFAULT_PRICE_TABLE, ...config.models });
  const embeddingModels = parseEmbeddingPriceTable({ ...DEFAULT_EMBEDDING_PRICE_TABLE, ...config.embeddingModels });
  const providers: Record<string, ChatModel> = { ...givenProviders };
  if (provider) providers.default = provider;
  if (Object.keys(providers).length === 0) {
    throw new AgentrixError('INVALID_ARGUMENT', 'A gateway needs a provider: pass `provider` or `providers`');
  }
  const tiers: Record<string, string> = config.tiers ?? DEFAULT_TIERS;
  const tierOrder = Object.keys(tiers);
  if (tierOrder.length === 0) throw new AgentrixError('INVALID_ARGUMENT', 'A gateway needs at least one tier');
  for (const [tier, model] of Object.entries(tiers)) {
    if (!models[model]) {
      throw new AgentrixError(
        'MODEL_NOT_FOUND',
        `Tier "${tier}" names model "${model}", which is not in the price table; add it to \`models\` (known: ${Object.keys(models).join(', ')})`,
        { details: { tier, model } },
      );
    }
  }
  for (const [name, info] of Object.entries(models)) {
    const providerName = info.provider ?? 'default';
    if (!providers[providerName] && Object.values(tiers).includes(name)) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `Model "${name}" is served by provider "${providerName}", which was not given; pass it in \`providers\``,
      );
    }
  }
  const defaultTier = config.defaultTier ?? tierOrder[tierOrder.length - 1]!;
  if (!tiers[defaultTier]) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `defaultTier "${defaultTier}" is not a tier; known tiers: ${tierOrder.join(', ')}`,
    );
  }
  const budgets = prepareBudgets(config.budgets);
  const ownBudgetStore = budgetStore === undefined;
  const store: BudgetStore = budgetStore ?? new InMemoryBudgetStore({ now: () => clock.now() });
  const ownCache = cacheStore === undefined && config.cache !== false;
  const cache =
    config.cache === false
      ? undefined
      : (cacheStore ??
        new InMemoryLruCache<ChatResponse>({ maxEntries: config.cache.maxEntries, now: () => clock.now() }));
  const ownLedger = ledger === undefined;
  const ledgerStore = ledger ?? new InMemoryLedger();

  const context: GatewayContext = {
    config,
    models,
    tierOrder,
    tiers,
    defaultTier,
    providers,
    rules,
    templateAnswer,
    compact,
    budgetStore: store,
    cacheStore: cache,
    ledger: ledgerStore,
    pendingLedgerWrites: new Set(),
    events: events ?? new AgentrixEvents(),
    clock,
    generateId,
    logger,
    reservations: {
      holder: config.reservations.holderId ?? `gateway-${randomId()}`,
      ttlMs: config.reservations.ttlMs,
      ready: Promise.resolve(),
      sequence: 0,
    },
  };
  // Only a gateway with budgets reserves: it also gives back what dead holders left.
  const keeper = budgets.length > 0 ? startReservationKeeper(context, config.reservations.sweepIntervalMs) : undefined;

  // The fixed order, outermost first.
  const layers: Layer[] = [
    meteringLayer(context),
    budgetLayer(context, budgets),
    rateLimitLayer(context, config.rateLimits),
  ];
  if (config.cache !== false) layers.push(cacheLayer(context, config.cache.ttlMs));
  layers.push(retryLayer(context), promptBudgetLayer(context));
  let pipeline: Next = providerStep(context);
  for (let index = layers.length - 1; index >= 0; index--) {
    const layer = layers[index]!;
    const inner = pipeline;
    pipeline = (call) => layer(call, inner);
  }

  const start = (request: ChatRequest, stream: boolean): GatewayCall => {
    const promptTokens = countPromptTokens(request);
    let requested: string | undefined;
    for (const rule of rules) {
      requested = rule(request, { promptTokens });
      if (requested !== undefined) break;
    }
    requested ??= request.model ?? request.tier ?? defaultTier;
    let tier: string | undefined;
    let model: string;
    if (tiers[requested]) {
      tier = requested;
      model = tiers[requested]!;
    } else if (models[requested]) {
      model = requested;
      if (!providers[models[requested]!.provider ?? 'default']) {
        throw new AgentrixError('MODEL_NOT_FOUND', `Model "${requested}" has no provider in this gateway`);
      }
    } else if (request.model === requested) {
      throw new AgentrixError(
        'MODEL_NOT_FOUND',
        `Model "${requested}" is not in the gateway's price table; add it to \`models\` (known: ${Object.keys(models).join(', ')})`,
      );
    } else {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `Tier "${requested}" is not configured; known tiers: ${tierOrder.join(', ')}`,
      );
    }
    const info = models[model]!;
    return {
      id: generateId(),
      startedAt: clock.now(),
      stream,
      scope: request.scope ?? {},
      request,
      requested,
      tier,
      ladder: tier === undefined ? [] : tierOrder.slice(tierOrder.indexOf(tier)),
      model,
      info,
      promptTokens,
      maxOutputTokens: outputCap(request, info, config.defaultOutputTokens),
      cacheHit: false,
      outputText: '',
      response: undefined,
      sent: false,
    };
  };

  let closing: Promise<void> | undefined;
  const embeddingCaches: CacheStore<number[]>[] = [];
  const gateway: Gateway = {
    name: config.name,
    managesRetries: true,
    events: context.events,
    ledger: ledgerStore,
    models,
    embeddingModels,
    tiers,
    embedder(embedderOptions) {
      if (closing) throw new AgentrixError('CLOSED', `The gateway "${config.name}" is closed`);
      return createMeteredEmbedder(context, budgets, embeddingModels, embedderOptions, (owned) =>
        embeddingCaches.push(owned),
      );
    },
    async generate(request) {
      const call = start(request, false);
      let response: ChatResponse | undefined;
      for await (const part of pipeline(call)) if (part.type === 'finish') response = part.response;
      if (!response) {
        throw new AgentrixError(
          'MODEL_RESPONSE_INVALID',
          `The gateway "${config.name}" got no answer from ${call.model}`,
        );
      }
      return response;
    },
    stream(request) {
      return {
        [Symbol.asyncIterator]: () => pipeline(start(request, true)),
      };
    },
    async report(reportOptions = {}) {
      await Promise.allSettled([...context.pendingLedgerWrites]);
      const day = reportOptions.day ?? utcDay(clock.now());
      return buildDailyReport(day, await ledgerStore.query({ fromDay: day, toDay: day }));
    },
    async budgetStatus(scope = {}) {
      await context.reservations.ready;
      return readBudgets(store, budgets, scope, clock.now());
    },
    setBudget(id, caps) {
      const budget = budgets.find((candidate) => candidate.id === id);
      if (!budget) {
        throw new AgentrixError(
          'NOT_FOUND',
          `No budget "${id}" in this gateway; known: ${budgets.map((candidate) => candidate.id).join(', ') || 'none'}`,
          { details: { budget: id } },
        );
      }
      const parsed = BudgetCapsSchema.safeParse(caps);
      if (!parsed.success) {
        throw new AgentrixError(
          'INVALID_ARGUMENT',
          `Budget "${id}" caps must be { usd?: positive number, tokens?: positive integer } with at least one: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'caps'}: ${issue.message}`).join('; ')}`,
        );
      }
      if (parsed.data.usd !== undefined) budget.usdNano = usdToNano(parsed.data.usd);
      if (parsed.data.tokens !== undefined) budget.tokens = parsed.data.tokens;
    },
    close() {
      closing ??= (async () => {
        await keeper?.stop();
        await context.reservations.ready;
        await Promise.allSettled([...context.pendingLedgerWrites]);
        const steps: Promise<void>[] = [];
        if (ownBudgetStore) steps.push(store.close());
        if (ownCache && cache) steps.push(cache.close());
        if (ownLedger) steps.push(ledgerStore.close());
        for (const owned of embeddingCaches) steps.push(owned.close());
        await Promise.allSettled(steps);
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return gateway.close();
    },
  };
  return gateway;
}

async function readBudgets(
  store: BudgetStore,
  budgets: readonly PreparedBudget[],
  scope: CallScope,
  now: number,
): Promise<BudgetStatus[]> {
  const entries = budgetKeys(budgets, scope, now);
  const wanted: {
    budget: string;
    period: BudgetStatus['period'];
    unit: 'usd' | 'tokens';
    key: string;
    limit: number;
  }[] = [];
  for (const entry of entries) {
    if (entry.budget.usdNano !== undefined) {
      wanted.push({
        budget: entry.id,
        period: entry.budget.period,
        unit: 'usd',
        key: entry.usdKey,
        limit: entry.budget.usdNano,
      });
    }
    if (entry.budget.tokens !== undefined) {
      wanted.push({
        budget: entry.id,
        period: entry.budget.period,
        unit: 'tokens',
        key: entry.tokensKey,
        limit: entry.budget.tokens,
      });
    }
  }
  const counters = await store.read(wanted.map((line) => line.key));
  return wanted.map((line, index) => {
    const counter = counters[index]!;
    const convert = (value: number) => (line.unit === 'usd' ? nanoToUsd(value) : value);
    return {
      budget: line.budget,
      period: line.period,
      unit: line.unit,
      limit: convert(line.limit),
      spent: convert(counter.spent),
      reserved: convert(counter.reserved),
      remaining: convert(Math.max(0, line.limit - counter.spent - counter.reserved)),
    };
  });
}
