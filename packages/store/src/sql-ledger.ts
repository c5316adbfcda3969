import type { DegradationStep, LedgerQuery, LedgerRecord, LedgerStore } from '@agentrix/core';
import { invalidArgument, toNumber } from '@agentrix/core/implement';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from './database.js';
import { closedError, storeError } from './errors.js';
import { jsonb, jsonColumn } from './json.js';
import { type LedgerTable, type StoreTables, storeKysely } from './store-tables.js';

export interface SqlLedgerOptions {
  /** A database migrated with `storeMigrations`. Not closed by the ledger. */
  database: Database;
}

type LedgerRow = Selectable<LedgerTable>;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The gateway's usage ledger in `agentrix_ledger`: one row per model call, indexed by day and by
 * agent, user and workflow (per day), so daily reports stay cheap as the table grows. Appending a
 * record id twice keeps the first (a replayed call is not counted twice). `query` returns records
 * oldest first, in append order.
 */
export class SqlLedger implements LedgerStore {
  readonly #db: Kysely<StoreTables>;
  #closed = false;

  constructor(options: SqlLedgerOptions) {
    if (!options?.database) throw invalidArgument('SqlLedger needs { database } (a migrated Database)');
    this.#db = storeKysely(options.database.kysely);
  }

  async append(record: LedgerRecord): Promise<void> {
    this.#assertOpen('append');
    checkRecord(record);
    try {
      await this.#db
        .insertInto('agentrix_ledger')
        .values({
          id: record.id,
          at: record.at,
          day: record.day,
          agent_id: record.agentId ?? null,
          user_id: record.userId ?? null,
          workflow_id: record.workflowId ?? null,
          tags: record.tags === undefined ? null : jsonb(record.tags),
          model: record.model,
          tier: record.tier ?? null,
          input_tokens: record.inputTokens,
          output_tokens: record.outputTokens,
          cached_input_tokens: record.cachedInputTokens,
          estimated: record.estimated,
          cost_usd: record.costUsd,
          latency_ms: record.latencyMs,
          stream: record.stream,
          cache_hit: record.cacheHit,
          degraded_from: record.degradedFrom ?? null,
          degradation: record.degradation ?? null,
          error: record.error === undefined ? null : jsonb({ code: record.error.code, message: record.error.message }),
        })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .execute();
    } catch (error) {
      throw storeError(error, `appending ledger record ${record.id}`);
    }
  }

  async query(query: LedgerQuery = {}): Promise<LedgerRecord[]> {
    this.#assertOpen('query');
    for (const field of ['fromDay', 'toDay'] as const) {
      const day = query[field];
      if (day !== undefined && (typeof day !== 'string' || !DAY.test(day))) {
        throw invalidArgument(`Invalid ledger query ${field} ${JSON.stringify(day)}: expected YYYY-MM-DD`);
      }
    }
    try {
      let select = this.#db.selectFrom('agentrix_ledger').selectAll();
      if (query.fromDay !== undefined) select = select.where('day', '>=', query.fromDay);
      if (query.toDay !== undefined) select = select.where('day', '<=', query.toDay);
      if (query.agentId !== undefined) select = select.where('agent_id', '=', query.agentId);
      if (query.userId !== undefined) select = select.where('user_id', '=', query.userId);
      if (query.workflowId !== undefined) select = select.where('workflow_id', '=', query.workflowId);
      const rows = await select.orderBy('seq').execute();
      return rows.map(toRecord);
    } catch (error) {
      throw storeError(error, 'querying the ledger');
    }
  }

  /** Idempotent; leaves the database open. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw closedError('SqlLedger', operation);
  }
}

function toRecord(row: LedgerRow): LedgerRecord {
  const record: LedgerRecord = {
    id: row.id,
    at: toNumber(row.at),
    day: row.day,
    model: row.model,
    inputTokens: toNumber(row.input_tokens),
    outputTokens: toNumber(row.output_tokens),
    cachedInputTokens: toNumber(row.cached_input_tokens),
    estimated: row.estimated,
    costUsd: toNumber(row.cost_usd),
    latencyMs: toNumber(row.latency_ms),
    stream: row.stream,
    cacheHit: row.cache_hit,
  };
  if (row.agent_id !== null) record.agentId = row.agent_id;
  if (row.user_id !== null) record.userId = row.user_id;
  if (row.workflow_id !== null) record.workflowId = row.workflow_id;
  const tags = jsonColumn<string[]>(row.tags);
  if (tags !== undefined) record.tags = tags;
  if (row.tier !== null) record.tier = row.tier;
  if (row.degraded_from !== null) record.degradedFrom = row.degraded_from;
  if (row.degradation !== null) record.degradation = row.degradation as DegradationStep;
  const error = jsonColumn<LedgerRecord['error']>(row.error);
  if (error !== undefined) record.error = error;
  return record;
}

function checkRecord(record: LedgerRecord): void {
  if (typeof record?.id !== 'string' || record.id.length === 0) {
    throw invalidArgument('A ledger record needs an id (a non-empty string)');
  }
  if (typeof record.day !== 'string' || !DAY.test(record.day)) {
    throw invalidArgument(`Ledger record ${record.id}: day ${JSON.stringify(record.day)} is not YYYY-MM-DD`);
  }
  if (typeof record.model !== 'string') throw invalidArgument(`Ledger record ${record.id}: model must be a string`);
}
