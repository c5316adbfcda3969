import type { LedgerQuery, LedgerRecord, LedgerStore } from '@agentrix/core';

// The port lives in @agentrix/core (so @agentrix/store can implement it); re-exported for the gateway's files.
export type { LedgerQuery, LedgerRecord, LedgerStore };

/** Records in an array, oldest first; keeps the newest `maxRecords` (default 100,000). */
export class InMemoryLedger implements LedgerStore {
  #records: LedgerRecord[] = [];
  readonly #maxRecords: number;

  constructor(options: { maxRecords?: number } = {}) {
    this.#maxRecords = options.maxRecords ?? 100_000;
  }

  async append(record: LedgerRecord): Promise<void> {
    this.#records.push(record);
    // Trim in batches so appends stay O(1) amortized.
    if (this.#records.length > this.#maxRecords + Math.ceil(this.#maxRecords / 10)) {
      this.#records = this.#records.slice(this.#records.length - this.#maxRecords);
    }
  }

  async query(query: LedgerQuery = {}): Promise<LedgerRecord[]> {
    const start = Math.max(0, this.#records.length - this.#maxRecords);
    const out: LedgerRecord[] = [];
    for (let index = start; index < this.#records.length; index++) {
      const record = this.#records[index]!;
      if (matches(record, query)) out.push(record);
    }
    return out;
  }

  async close(): Promise<void> {}
}

function matches(record: LedgerRecord, query: LedgerQuery): boolean {
  if (query.fromDay !== undefined && record.day < query.fromDay) return false;
  if (query.toDay !== undefined && record.day > query.toDay) return false;
  if (query.agentId !== undefined && record.agentId !== query.agentId) return false;
  if (query.userId !== undefined && record.userId !== query.userId) return false;
  if (query.workflowId !== undefined && record.workflowId !== query.workflowId) return false;
  return true;
}

/** Sums over a set of records. */
export interface UsageTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  costUsd: number;
  cacheHits: number;
  errors: number;
  degraded: number;
  /** Calls whose usage was estimated. */
  estimated: number;
}

/** A day's usage, in all and per agent, user, workflow and model. */
export interface DailyReport {
  day: string;
  total: UsageTotals;
  byAgent: Record<string, UsageTotals>;
  byUser: Record<string, UsageTotals>;
  byWorkflow: Record<string, UsageTotals>;
  byModel: Record<string, UsageTotals>;
}

const emptyTotals = (): UsageTotals => ({
  calls: 0,
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  costUsd: 0,
  cacheHits: 0,
  errors: 0,
  degraded: 0,
  estimated: 0,
});

function add(totals: UsageTotals, record: LedgerRecord): void {
  totals.calls++;
  totals.inputTokens += record.inputTokens;
  totals.outputTokens += record.outputTokens;
  totals.cachedInputTokens += record.cachedInputTokens;
  totals.costUsd = roundUsd(totals.costUsd + record.costUsd);
  if (record.cacheHit) totals.cacheHits++;
  if (record.error) totals.errors++;
  if (record.degradation) totals.degraded++;
  if (record.estimated) totals.estimated++;
}

/** Rounds to a nano-dollar so sums of many small costs print cleanly. */
const roundUsd = (usd: number) => Math.round(usd * 1e9) / 1e9;

/** Builds the report of `day` from its records. */
export function buildDailyReport(day: string, records: readonly LedgerRecord[]): DailyReport {
  const report: DailyReport = { day, total: emptyTotals(), byAgent: {}, byUser: {}, byWorkflow: {}, byModel: {} };
  const into = (map: Record<string, UsageTotals>, key: string | undefined, record: LedgerRecord) => {
    if (key === undefined) return;
    let totals = map[key];
    if (!totals) {
      totals = emptyTotals();
      map[key] = totals;
    }
    add(totals, record);
  };
  for (const record of records) {
    if (record.day !== day) continue;
    add(report.total, record);
    into(report.byAgent, record.agentId, record);
    into(report.byUser, record.userId, record);
    into(report.byWorkflow, record.workflowId, record);
    into(report.byModel, record.model, record);
  }
  return report;
}

/** `YYYY-MM-DD` of a timestamp, in UTC. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}
