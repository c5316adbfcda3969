import type { AgentContext, AgentRegistryEntry, AgentState, SerializedError } from '@agentrix/core';
import type { ColumnType, Generated, Kysely, RawBuilder } from 'kysely';

/** A `bigint` column: `pg` reads int8 as a string, PGlite as a number (read it with `toNumber`); kysely-codegen's `Int8`. */
export type Int8Column = ColumnType<string | number, number | string | bigint, number | string | bigint>;

/** A `bigint` column with a default (`bigserial`, `default 0`): optional on insert. */
export type GeneratedInt8Column = ColumnType<
  string | number,
  number | string | bigint | undefined,
  number | string | bigint
>;

/**
 * A `jsonb` column read as `T` (both drivers parse it). Written only through `jsonb(value)`:
 * a plain array would be sent as a Postgres array.
 */
export type JsonbColumn<T> = ColumnType<T, RawBuilder<T>, RawBuilder<T>>;

/** The tables of {@link storeMigrations}, as kysely sees them: a renamed column fails the type check. */
export interface StoreTables {
  agentrix_migrations: MigrationsTable;
  agentrix_contexts: ContextsTable;
  agentrix_agents: AgentsTable;
  agentrix_idempotency: IdempotencyTable;
  agentrix_bus_messages: BusMessagesTable;
  agentrix_bus_groups: BusGroupsTable;
  agentrix_bus_members: BusMembersTable;
  agentrix_budget_counters: BudgetCountersTable;
  agentrix_budget_reservations: BudgetReservationsTable;
  agentrix_ledger: LedgerTable;
}

/** The store's view of `database.kysely` (or a transaction on it), which names no table: each package brings its own. */
export function storeKysely(kysely: Kysely<unknown>): Kysely<StoreTables> {
  return kysely as Kysely<StoreTables>;
}

export interface MigrationsTable {
  name: string;
  applied_at: Int8Column;
}

export interface ContextsTable {
  agent_id: string;
  thread_id: string;
  version: number;
  context: JsonbColumn<AgentContext>;
  updated_at: Int8Column;
}

export interface AgentsTable {
  agent_id: string;
  seq: GeneratedInt8Column;
  parent_id: string | null;
  spec: JsonbColumn<AgentRegistryEntry['spec']>;
  state: AgentState;
  last_error: JsonbColumn<SerializedError> | null;
  created_at: Int8Column;
  updated_at: Int8Column;
}

export interface IdempotencyTable {
  key: string;
  status: 'pending' | 'completed';
  result: JsonbColumn<unknown> | null;
  last_error: JsonbColumn<SerializedError> | null;
  lease_until: Int8Column | null;
  created_at: Int8Column;
  updated_at: Int8Column;
}

export interface BusMessagesTable {
  id: GeneratedInt8Column;
  inbox: string;
  message_id: string;
  dedupe_key: string | null;
  external_id: string | null;
  envelope: JsonbColumn<unknown>;
  state: 'ready' | 'leased' | 'dead' | 'acked';
  attempt: Generated<number>;
  requeue_rank: Int8Column | null;
  consumer: string | null;
  leased_until: Int8Column | null;
  last_error: JsonbColumn<SerializedError> | null;
  dead_at: Int8Column | null;
  created_at: Int8Column;
}

export interface BusGroupsTable {
  name: string;
  created_at: Int8Column;
}

export interface BusMembersTable {
  group_name: string;
  member: string;
  seq: GeneratedInt8Column;
}

export interface BudgetCountersTable {
  key: string;
  spent: GeneratedInt8Column;
  reserved: GeneratedInt8Column;
  expires_at: Int8Column | null;
}

/** What a reservation holds on one counter (its `lines` column). */
export interface HeldLine {
  key: string;
  amount: number;
}

export interface BudgetReservationsTable {
  id: string;
  holder: string;
  expires_at: Int8Column;
  lines: JsonbColumn<HeldLine[]>;
  created_at: Int8Column;
}

export interface LedgerTable {
  id: string;
  seq: GeneratedInt8Column;
  at: Int8Column;
  day: string;
  agent_id: string | null;
  user_id: string | null;
  workflow_id: string | null;
  tags: JsonbColumn<string[]> | null;
  model: string;
  tier: string | null;
  input_tokens: Int8Column;
  output_tokens: Int8Column;
  cached_input_tokens: Int8Column;
  estimated: boolean;
  cost_usd: number;
  latency_ms: number;
  stream: boolean;
  cache_hit: boolean;
  degraded_from: string | null;
  degradation: string | null;
  error: JsonbColumn<{ code: string; message: string }> | null;
}
