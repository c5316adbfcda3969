import type { TraceCarrier } from '@agentrix/core';
import type { Database, Int8Column as Int8, JsonbColumn as Json } from '@agentrix/store';
import type { ColumnType, Kysely, RawBuilder } from 'kysely';
import type { DispatchJobStatus, DistributionStatus, JobConditions } from './dispatch-types.js';
import type { JobStatus } from './job-status.js';

/** A nullable `bigint` column, optional on insert. */
type NullableInt8 = ColumnType<string | number | null, number | null | undefined, number | null>;
/** A nullable `jsonb` column, optional on insert; written only through `jsonb(value)`. */
type NullableJson<T> = ColumnType<T | null, RawBuilder<T> | null | undefined, RawBuilder<T> | null>;
/** A nullable text column, optional on insert. */
type NullableText = ColumnType<string | null, string | null | undefined, string | null>;
/** A column with a default: optional on insert. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;

/** The tables of {@link schedulerMigrations} as kysely sees them: a renamed column fails the type check. */
export interface SchedulerTables {
  agentrix_jobs: JobsTable;
  agentrix_schedules: SchedulesTable;
  agentrix_agent_profiles: AgentProfilesTable;
  agentrix_dispatch_jobs: DispatchJobsTable;
  agentrix_dispatch_distributions: DistributionsTable;
}

/** The scheduler's view of `database.kysely` (which names no table: each package brings its own). */
export function schedulerKysely(database: Pick<Database, 'kysely'>): Kysely<SchedulerTables> {
  return database.kysely as Kysely<SchedulerTables>;
}

export interface JobsTable {
  id: string;
  queue: Defaulted<string>;
  type: string;
  payload: NullableJson<unknown>;
  status: Defaulted<JobStatus>;
  priority: Defaulted<number>;
  run_at: Int8;
  attempts: Defaulted<number>;
  max_attempts: Defaulted<number>;
  timeout_ms: Defaulted<number>;
  idempotency_key: string | null;
  locked_by: NullableText;
  locked_at: NullableInt8;
  lease_until: NullableInt8;
  last_error: NullableText;
  /** The adder's W3C trace carrier (migration 0005). */
  trace: NullableJson<TraceCarrier>;
  created_at: Int8;
  updated_at: Int8;
}

export interface SchedulesTable {
  agent_id: string;
  cron: string;
  timezone: string | null;
  content: string;
  data: NullableJson<Record<string, unknown>>;
  next_run_at: Int8;
  last_run_at: NullableInt8;
  paused: Defaulted<boolean>;
  created_at: Int8;
}

export interface AgentProfilesTable {
  agent_id: string;
  tags: Json<string[]>;
  categories: Json<string[]>;
  skill_level: Defaulted<number>;
  reputation: Defaulted<number>;
  successes: Defaulted<number>;
  failures: Defaulted<number>;
  total_ms: ColumnType<string | number, number | undefined, number>;
  updated_at: Int8;
}

export interface DispatchJobsTable {
  id: string;
  payload: NullableJson<unknown>;
  conditions: Json<JobConditions>;
  status: DispatchJobStatus;
  winner: NullableText;
  result: NullableJson<unknown>;
  error: NullableText;
  expires_at: NullableInt8;
  created_at: Int8;
  updated_at: Int8;
}

export interface DistributionsTable {
  job_id: string;
  agent_id: string;
  rank: number;
  score: number;
  status: DistributionStatus;
  result: NullableJson<unknown>;
  error: NullableText;
  started_at: NullableInt8;
  finished_at: NullableInt8;
}
