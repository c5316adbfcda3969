import { sql } from 'kysely';
import type { Migration } from './migrations.js';

/**
 * The tables of `@agentrix/store`: contexts, agents, idempotency records, the message bus, and the
 * gateway's budget counters and reservations and usage ledger.
 * Apply them with `database.migrate(storeMigrations)` (the `create*` functions do it for you).
 */
export const storeMigrations: readonly Migration[] = [
  {
    name: '0001_store_contexts',
    async up(db) {
      await sql`create table agentrix_contexts (
        agent_id text primary key,
        version integer not null,
        context jsonb not null,
        updated_at bigint not null
      )`.execute(db);
    },
  },
  {
    name: '0002_store_agents',
    async up(db) {
      await sql`create table agentrix_agents (
        agent_id text primary key,
        seq bigserial not null,
        parent_id text,
        spec jsonb not null,
        state text not null,
        last_error jsonb,
        created_at bigint not null,
        updated_at bigint not null
      )`.execute(db);
      await sql`create index agentrix_agents_parent on agentrix_agents (parent_id) where parent_id is not null`.execute(
        db,
      );
    },
  },
  {
    name: '0003_store_idempotency',
    async up(db) {
      await sql`create table agentrix_idempotency (
        key text primary key,
        status text not null check (status in ('pending', 'completed')),
        result jsonb,
        last_error jsonb,
        lease_until bigint,
        created_at bigint not null,
        updated_at bigint not null
      )`.execute(db);
    },
  },
  {
    name: '0004_store_bus',
    async up(db) {
      // One row per message per inbox, from send until ack. `id` is the delivery id and the send
      // order; `requeue_rank` (higher first) puts redeliveries ahead of first deliveries.
      await sql`create sequence agentrix_bus_rank`.execute(db);
      await sql`create table agentrix_bus_messages (
        id bigserial primary key,
        inbox text not null,
        message_id text not null,
        dedupe_key text,
        external_id text,
        envelope jsonb not null,
        state text not null check (state in ('ready', 'leased', 'dead', 'acked')),
        attempt integer not null default 0,
        requeue_rank bigint,
        consumer text,
        leased_until bigint,
        last_error jsonb,
        dead_at bigint,
        created_at bigint not null
      )`.execute(db);
      await sql`create unique index agentrix_bus_dedupe on agentrix_bus_messages (inbox, dedupe_key) where dedupe_key is not null`.execute(
        db,
      );
      await sql`create unique index agentrix_bus_external on agentrix_bus_messages (inbox, external_id) where external_id is not null`.execute(
        db,
      );
      await sql`create index agentrix_bus_ready on agentrix_bus_messages (inbox, requeue_rank desc nulls last, id) where state = 'ready'`.execute(
        db,
      );
      await sql`create index agentrix_bus_leased on agentrix_bus_messages (inbox, leased_until) where state = 'leased'`.execute(
        db,
      );
      await sql`create index agentrix_bus_dead on agentrix_bus_messages (inbox, requeue_rank, id) where state = 'dead'`.execute(
        db,
      );
      await sql`create table agentrix_bus_groups (
        name text primary key,
        created_at bigint not null
      )`.execute(db);
      await sql`create table agentrix_bus_members (
        group_name text not null references agentrix_bus_groups (name) on delete cascade,
        member text not null,
        seq bigserial not null,
        primary key (group_name, member)
      )`.execute(db);
    },
  },
  {
    name: '0005_store_budget_counters',
    async up(db) {
      // One row per budget line and period (the key carries the period); amounts are integers
      // (nano-dollars or tokens). SqlBudgetStore keeps spent + reserved <= the caller's cap.
      await sql`create table agentrix_budget_counters (
        key text primary key,
        spent bigint not null default 0 check (spent >= 0),
        reserved bigint not null default 0 check (reserved >= 0),
        expires_at bigint
      )`.execute(db);
      await sql`create index agentrix_budget_counters_expires on agentrix_budget_counters (expires_at) where expires_at is not null`.execute(
        db,
      );
    },
  },
  {
    name: '0006_store_ledger',
    async up(db) {
      // One row per model call; `seq` keeps append order across processes.
      await sql`create table agentrix_ledger (
        id text primary key,
        seq bigserial not null,
        at bigint not null,
        day text not null,
        agent_id text,
        user_id text,
        workflow_id text,
        tags jsonb,
        model text not null,
        tier text,
        input_tokens bigint not null,
        output_tokens bigint not null,
        cached_input_tokens bigint not null,
        estimated boolean not null,
        cost_usd double precision not null,
        latency_ms double precision not null,
        stream boolean not null,
        cache_hit boolean not null,
        degraded_from text,
        degradation text,
        error jsonb
      )`.execute(db);
      await sql`create index agentrix_ledger_day on agentrix_ledger (day, seq)`.execute(db);
      await sql`create index agentrix_ledger_agent on agentrix_ledger (agent_id, day) where agent_id is not null`.execute(
        db,
      );
      await sql`create index agentrix_ledger_user on agentrix_ledger (user_id, day) where user_id is not null`.execute(
        db,
      );
      await sql`create index agentrix_ledger_workflow on agentrix_ledger (workflow_id, day) where workflow_id is not null`.execute(
        db,
      );
    },
  },
  {
    name: '0007_store_budget_reservations',
    async up(db) {
      // One row per reservation in flight: what it holds on which counters, who holds it and when
      // a sweep may give it back (its holder is presumed dead). Settling deletes the row.
      await sql`create table agentrix_budget_reservations (
        id text primary key,
        holder text not null,
        expires_at bigint not null,
        lines jsonb not null,
        created_at bigint not null
      )`.execute(db);
      await sql`create index agentrix_budget_reservations_expires on agentrix_budget_reservations (expires_at)`.execute(
        db,
      );
      await sql`create index agentrix_budget_reservations_holder on agentrix_budget_reservations (holder)`.execute(db);
    },
  },
  {
    name: '0008_store_context_threads',
    async up(db) {
      // One context per (agent, thread). Every context stored before threads is its agent's
      // `main` thread (what the runtime's upgradeContext makes of a version 1 document too).
      await sql`alter table agentrix_contexts add column thread_id text not null default 'main'`.execute(db);
      await sql`alter table agentrix_contexts drop constraint agentrix_contexts_pkey`.execute(db);
      await sql`alter table agentrix_contexts add primary key (agent_id, thread_id)`.execute(db);
      await sql`alter table agentrix_contexts alter column thread_id drop default`.execute(db);
      // threads(agentId): most recently updated first.
      await sql`create index agentrix_contexts_recent on agentrix_contexts (agent_id, updated_at desc)`.execute(db);
    },
  },
];
