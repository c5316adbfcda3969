import {
  AgentrixError,
  AgentrixEvents,
  type BudgetStore,
  type CallScope,
  type ChatModel,
  type ChatResponse,
  type Clock,
  type Embedder,
  parseWith,
  randomId,
  systemClock,
} from '@agentrix/core';
import { budgetMiddleware } from './budget-layer.js';
import { type BudgetStatus, readBudgets, setBudgetCaps } from './budget-status.js';
import { InMemoryBudgetStore } from './budget-store.js';
import { type PreparedBudget, prepareBudgets } from './budgets.js';
import { cacheLayer } from './cache-layer.js';
import { type CacheStore, InMemoryLruCache } from './cache-store.js';
import { compose, type GatewayContext, type GatewayMiddleware } from './call.js';
import { createMeteredEmbedder, type GatewayEmbedderOptions } from './gateway-embedder.js';
import { type GatewayConfig, GatewayConfigSchema, type GatewayOptions } from './gateway-options.js';
import { buildDailyReport, type DailyReport, InMemoryLedger, type LedgerStore, utcDay } from './ledger.js';
import { meteringMiddleware } from './metering-layer.js';
import {
  DEFAULT_EMBEDDING_PRICE_TABLE,
  DEFAULT_PRICE_TABLE,
  type EmbeddingPriceTable,
  type PriceTable,
  parseEmbeddingPriceTable,
  parsePriceTable,
} from './price-table.js';
import { promptBudgetLayer } from './prompt-budget-layer.js';
import { providerStep } from './provider-layer.js';
import { rateLimitLayer } from './rate-limit-layer.js';
import { startReservationKeeper } from './reservations.js';
import { retryLayer } from './retry-layer.js';
import { routeCall } from './route.js';

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

const DEFAULT_TIERS: Record<string, string> = { large: 'gpt-4o', small: 'gpt-4o-mini' };

/**
 * Creates a gateway. Everything is checked here — the price table, tiers naming known models,
 * models naming known providers, budgets and rate limits — so a bad configuration fails now
 * with an `INVALID_ARGUMENT` (or `MODEL_NOT_FOUND`), not at the first call.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { context, budgets, embeddingModels, owned } = configure(options);
  const { config, clock } = context;
  // Only a gateway with budgets reserves: it also gives back what dead holders left.
  const keeper = budgets.length > 0 ? startReservationKeeper(context, config.reservations.sweepIntervalMs) : undefined;
  const middleware = gatewayMiddleware(context, budgets);
  const pipeline = compose(
    middleware.flatMap((step) => (step.chat ? [step.chat] : [])),
    providerStep(context),
  );

  let closing: Promise<void> | undefined;
  const gateway: Gateway = {
    name: config.name,
    managesRetries: true,
    events: context.events,
    ledger: context.ledger,
    models: context.models,
    embeddingModels,
    tiers: context.tiers,
    embedder(embedderOptions) {
      if (closing) throw new AgentrixError('CLOSED', `The gateway "${config.name}" is closed`);
      return createMeteredEmbedder(context, middleware, embeddingModels, embedderOptions, (store) => owned.push(store));
    },
    async generate(request) {
      const call = routeCall(context, request, false);
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
        [Symbol.asyncIterator]: () => pipeline(routeCall(context, request, true)),
      };
    },
    async report(reportOptions = {}) {
      await Promise.allSettled([...context.pendingLedgerWrites]);
      const day = reportOptions.day ?? utcDay(clock.now());
      return buildDailyReport(day, await context.ledger.query({ fromDay: day, toDay: day }));
    },
    async budgetStatus(scope = {}) {
      await context.reservations.ready;
      return readBudgets(context.budgetStore, budgets, scope, clock.now());
    },
    setBudget(id, caps) {
      setBudgetCaps(budgets, id, caps);
    },
    close() {
      closing ??= (async () => {
        await keeper?.stop();
        await context.reservations.ready;
        await Promise.allSettled([...context.pendingLedgerWrites]);
        await Promise.allSettled(owned.map((store) => store.close()));
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return gateway.close();
    },
  };
  return gateway;
}

/** Everything `createGateway` checks and opens: the layers' context, the budgets, and the stores it made. */
function configure(options: GatewayOptions): {
  context: GatewayContext;
  budgets: PreparedBudget[];
  embeddingModels: EmbeddingPriceTable;
  owned: { close(): Promise<void> }[];
} {
  const {
    provider,
    providers,
    rules = [],
    templateAnswer,
    compact,
    budgetStore,
    cacheStore,
    ledger,
    ...rest
  } = options;
  const { events, clock = systemClock, generateId = randomId, logger, ...configInput } = rest;
  const config = parseWith(GatewayConfigSchema, configInput, 'INVALID_ARGUMENT', 'gateway options');
  const models = parsePriceTable({ ...DEFAULT_PRICE_TABLE, ...config.models });
  const embeddingModels = parseEmbeddingPriceTable({ ...DEFAULT_EMBEDDING_PRICE_TABLE, ...config.embeddingModels });
  const allProviders = checkProviders(provider, providers);
  const { tiers, tierOrder, defaultTier } = checkTiers(config, models, allProviders);
  const budgets = prepareBudgets(config.budgets);
  const stores = openStores(options, config, clock);
  const context: GatewayContext = {
    config,
    models,
    tierOrder,
    tiers,
    defaultTier,
    providers: allProviders,
    rules,
    templateAnswer,
    compact,
    budgetStore: stores.budgetStore,
    cacheStore: stores.cacheStore,
    ledger: stores.ledger,
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
  return { context, budgets, embeddingModels, owned: stores.owned };
}

/** The providers by name: `providers`, and `provider` as `default`. At least one. */
function checkProviders(
  provider: ChatModel | undefined,
  providers: Record<string, ChatModel> | undefined,
): Record<string, ChatModel> {
  const all: Record<string, ChatModel> = { ...providers };
  if (provider) all.default = provider;
  if (Object.keys(all).length === 0) {
    throw new AgentrixError('INVALID_ARGUMENT', 'A gateway needs a provider: pass `provider` or `providers`');
  }
  return all;
}

/** The tiers, each naming a model of the price table served by a given provider, and the default tier. */
function checkTiers(
  config: GatewayConfig,
  models: PriceTable,
  providers: Record<string, ChatModel>,
): { tiers: Record<string, string>; tierOrder: string[]; defaultTier: string } {
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
  return { tiers, tierOrder, defaultTier };
}

/** The stores given, else in-memory ones; `owned`: those the gateway made, which it closes. */
function openStores(
  options: GatewayOptions,
  config: GatewayConfig,
  clock: Clock,
): {
  budgetStore: BudgetStore;
  cacheStore: CacheStore<ChatResponse> | undefined;
  ledger: LedgerStore;
  owned: { close(): Promise<void> }[];
} {
  const owned: { close(): Promise<void> }[] = [];
  const own = <T extends { close(): Promise<void> }>(store: T): T => {
    owned.push(store);
    return store;
  };
  const budgetStore = options.budgetStore ?? own(new InMemoryBudgetStore({ now: () => clock.now() }));
  const cacheStore =
    config.cache === false
      ? undefined
      : (options.cacheStore ??
        own(new InMemoryLruCache<ChatResponse>({ maxEntries: config.cache.maxEntries, now: () => clock.now() })));
  const ledger = options.ledger ?? own(new InMemoryLedger());
  return { budgetStore, cacheStore, ledger, owned };
}

/** The gateway's concerns in their fixed order, outermost first. */
function gatewayMiddleware(context: GatewayContext, budgets: readonly PreparedBudget[]): GatewayMiddleware[] {
  const { config } = context;
  return [
    meteringMiddleware(context),
    budgetMiddleware(context, budgets),
    { chat: rateLimitLayer(context, config.rateLimits) },
    ...(config.cache === false ? [] : [{ chat: cacheLayer(context, config.cache.ttlMs) }]),
    { chat: retryLayer(context) },
    { chat: promptBudgetLayer(context) },
  ];
}
