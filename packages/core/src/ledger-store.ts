/** The gateway's degradation ladder: a smaller tier, a host's template answer, a plan without tools, then refusal. */
export type DegradationStep = 'smaller-tier' | 'template' | 'plan-only' | 'refused';

/** One model call as the ledger keeps it. */
export interface LedgerRecord {
  id: string;
  /** When the call started, ms since the epoch. */
  at: number;
  /** UTC day of `at`, `YYYY-MM-DD`. */
  day: string;
  agentId?: string;
  userId?: string;
  workflowId?: string;
  tags?: string[];
  /** The provider model that answered (or would have). */
  model: string;
  tier?: string;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** True when the tokens were counted locally (no usage from the provider, or a stream cut off). */
  estimated: boolean;
  costUsd: number;
  latencyMs: number;
  stream: boolean;
  cacheHit: boolean;
  /** The tier or model the call asked for, when it got something else. */
  degradedFrom?: string;
  degradation?: DegradationStep;
  error?: { code: string; message: string };
}

export interface LedgerQuery {
  /** Inclusive, `YYYY-MM-DD`. */
  fromDay?: string;
  /** Inclusive, `YYYY-MM-DD`. */
  toDay?: string;
  agentId?: string;
  userId?: string;
  workflowId?: string;
}

/**
 * The ledger port: append-only records of model calls, oldest first. Implemented by
 * `InMemoryLedger` (`@agentrix/gateway`) and `SqlLedger` (`@agentrix/store`).
 */
export interface LedgerStore {
  append(record: LedgerRecord): Promise<void>;
  query(query?: LedgerQuery): Promise<LedgerRecord[]>;
  close(): Promise<void>;
}
