import { sql } from 'kysely';
import type { Migration } from './migrations.js';

/**
 * The tables of `@agentrix/store`: contexts, agents, idempotency records and the message bus.
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
];
