import type { CallScope, DegradationStep, SerializedError } from '@agentrix/core';
import type { LedgerRecord } from './ledger.js';

/** Why the gateway stepped down the degradation ladder. */
export type DegradationReason = 'budget-low' | 'budget-exhausted' | 'rate-limited';
/** The ladder: a smaller tier, a host's template answer, a plan without tools, then refusal (declared in core). */
export type { DegradationStep };

/** One budget line a call touched. */
export interface BudgetLineEvent {
  /** The budget's id (from the gateway options). */
  budget: string;
  unit: 'usd' | 'tokens';
  /** USD or tokens. */
  amount: number;
}

/**
 * Every event the gateway emits, by name (`noun.action`, unique across packages). They join
 * core's `AgentrixEventMap` (below), so they arrive on the one `AgentrixEvents` stream.
 */
export interface GatewayEventMap {
  'budget.reserved': { callId: string; scope: CallScope; model: string; lines: BudgetLineEvent[] };
  'budget.settled': {
    callId: string;
    scope: CallScope;
    model: string;
    /** What was actually spent per line (USD or tokens); released = reserved - spent. */
    lines: BudgetLineEvent[];
    estimated: boolean;
  };
  'budget.released': { callId: string; scope: CallScope; model: string; reason: 'error' | 'cache-hit' | 'template' };
  /**
   * A reservation its holder never settled was given back: it expired (the holder is presumed
   * dead), or this gateway started with the holder id of a previous run that held it.
   */
  'budget.reclaimed': {
    reservationId: string;
    holder: string;
    reason: 'expired' | 'holder-restarted';
    expiresAt: number;
    /** Store keys and amounts (nano-dollars for `:usd:` keys, tokens for `:tokens:` keys). */
    lines: { key: string; amount: number }[];
  };
  'gateway.degraded': {
    callId: string;
    scope: CallScope;
    step: DegradationStep;
    reason: DegradationReason;
    /** The tier or model the call asked for. */
    from: string;
    /** The tier or model it got (absent for template answers and refusals). */
    to?: string;
    /** The budget that ran low or out. */
    budget?: string;
  };
  'cache.hit': { callId: string; scope: CallScope; model: string; key: string };
  'rate.limited': {
    callId: string;
    scope: CallScope;
    /** The limit's id (from the gateway options), or `provider` for a 429. */
    limit: string;
    waitMs: number;
    /** True when the call waited; false when it failed with RATE_LIMITED. */
    waited: boolean;
  };
  'prompt.trimmed': {
    callId: string;
    model: string;
    droppedMessages: number;
    tokensBefore: number;
    tokensAfter: number;
  };
  /** A provider call failed with a retryable error and the gateway retries it (the runtime's is `model.retry`). */
  'gateway.retry': { callId: string; model: string; attempt: number; delayMs: number; error: SerializedError };
  'ledger.recorded': { record: LedgerRecord };
}

export type GatewayEventName = keyof GatewayEventMap;

declare module '@agentrix/core' {
  interface AgentrixEventMap extends GatewayEventMap {}
}
