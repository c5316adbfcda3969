import type { Migration } from '@agentrix/store';
import { sql } from 'kysely';

export const JOBS_TABLE = 'agentrix_jobs';
export const SCHEDULES_TABLE = 'agentrix_schedules';
export const DISPATCH_JOBS_TABLE = 'agentrix_dispatch_jobs';
export const DISTRIBUTIONS_TABLE = 'agentrix_dispatch_distributions';
export const AGENT_PROFILES_TABLE = 'agentrix_agent_profiles';

/** The scheduler's schema changes, applied with `migrate(database, schedulerMigrations)`. */
export const schedulerMigrations: readonly Migration[] = [
  {
    name: '0001_scheduler_jobs',
    async up(db) {
      await sql`create table ${sql.table(JOBS_TABLE)} (
        id text primary key,
        queue text not null default 'default',
        type text not null,
        payload jsonb,
        status text not null default 'pending',
        priority integer not null default 0,
        run_at bigint not null,
        attempts integer not null default 0,
        max_attempts integer not null default 5,
        timeout_ms integer not null default 300000,
        idempotency_key text unique,
        locked_by text,
        locked_at bigint,
        lease_until bigint,
        last_error text,
        created_at bigint not null,
        updated_at bigint not null
      )`.execute(db);
      await sql`create index agentrix_jobs_pending on ${sql.table(JOBS_TABLE)} (queue, priority desc, run_at, id) where status = 'pending'`.execute(
        db,
      );
      await sql`create index agentrix_jobs_leases on ${sql.table(JOBS_TABLE)} (queue, lease_until) where status = 'running'`.execute(
        db,
      );
      await sql`create index agentrix_jobs_dead on ${sql.table(JOBS_TABLE)} (queue, updated_at) where status = 'dead'`.execute(
        db,
      );
    },
  },
  {
    name: '0002_scheduler_schedules',
    async up(db) {
      await sql`create table ${sql.table(SCHEDULES_TABLE)} (
        agent_id text primary key,
        cron text not null,
        timezone text,
        content text not null,
        data jsonb,
        next_run_at bigint not null,
        last_run_at bigint,
        paused boolean not null default false,
        created_at bigint not null
      )`.execute(db);
    },
  },
  {
    name: '0003_scheduler_dispatch',
    async up(db) {
      await sql`create table ${sql.table(AGENT_PROFILES_TABLE)} (
        agent_id text primary key,
        tags jsonb not null,
        categories jsonb not null,
        skill_level integer not null default 0,
        reputation double precision not null default 0.5,
        successes integer not null default 0,
        failures integer not null default 0,
        total_ms bigint not null default 0,
        updated_at bigint not null
      )`.execute(db);
      await sql`create table ${sql.table(DISPATCH_JOBS_TABLE)} (
        id text primary key,
        payload jsonb,
        conditions jsonb not null,
        status text not null,
        winner text,
        result jsonb,
        error text,
        expires_at bigint,
        created_at bigint not null,
        updated_at bigint not null
      )`.execute(db);
      await sql`create index agentrix_dispatch_jobs_open on ${sql.table(DISPATCH_JOBS_TABLE)} (created_at) where status = 'OPEN'`.execute(
        db,
      );
      await sql`create table ${sql.table(DISTRIBUTIONS_TABLE)} (
        job_id text not null,
        agent_id text not null,
        rank integer not null,
        score double precision not null,
        status text not null,
        result jsonb,
        error text,
        started_at bigint,
        finished_at bigint,
        primary key (job_id, agent_id)
      )`.execute(db);
    },
  },
  {
    // Idempotency keys were unique across the whole table, though queues share it: a key used on
    // queue A made `add` on queue B a silent no-op. Keys are per queue from here on. The old
    // constraint's name is looked up (Postgres named it, `agentrix_jobs_idempotency_key_key`).
    // Rows already stored cannot clash under the new index: they were unique under the old one.
    name: '0004_scheduler_jobs_idempotency_per_queue',
    async up(db) {
      const constraints = await sql<{ name: string }>`select con.conname as name
        from pg_constraint con
        join pg_attribute att on att.attrelid = con.conrelid and att.attnum = any(con.conkey)
        where con.conrelid = to_regclass(${JOBS_TABLE}) and con.contype = 'u'
          and array_length(con.conkey, 1) = 1 and att.attname = 'idempotency_key'`.execute(db);
      for (const { name } of constraints.rows) {
        await sql`alter table ${sql.table(JOBS_TABLE)} drop constraint ${sql.id(name)}`.execute(db);
      }
      await sql`create unique index agentrix_jobs_queue_idempotency_key on ${sql.table(JOBS_TABLE)} (queue, idempotency_key) where idempotency_key is not null`.execute(
        db,
      );
    },
  },
  {
    // The trace context of whoever added a job, so its attempts continue that trace in any process
    // (`JobQueueOptions.tracing`). A column of its own: the payload stays the host's.
    name: '0005_scheduler_jobs_trace',
    async up(db) {
      await sql`alter table ${sql.table(JOBS_TABLE)} add column trace jsonb`.execute(db);
    },
  },
  {
    // Dispatch statuses were upper case (`IN_PROGRESS`) beside the jobs table's lower case
    // (`pending`): one spelling now, lower case with a hyphen (`in-progress`), rows included.
    name: '0006_scheduler_dispatch_status_lower_case',
    async up(db) {
      for (const table of [DISPATCH_JOBS_TABLE, DISTRIBUTIONS_TABLE]) {
        await sql`update ${sql.table(table)} set status = replace(lower(status), '_', '-')`.execute(db);
      }
      await sql`drop index if exists agentrix_dispatch_jobs_open`.execute(db);
      await sql`create index agentrix_dispatch_jobs_open on ${sql.table(DISPATCH_JOBS_TABLE)} (created_at) where status = 'open'`.execute(
        db,
      );
    },
  },
];
