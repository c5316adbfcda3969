import type { Migration } from '@agentrix/store';
import { sql } from 'kysely';

/**
 * Distillation: a fact (or a session summary, stored as a fact of tag `summary`) links to the
 * episodes it was distilled from (`evidence`, episode ids, in the order said); a cursor per
 * conversation (its scope columns) marks the last episode distilled, so a crash before the
 * cursor moves re-runs the session and nothing after it is distilled twice.
 */
export const distillMigration: Migration = {
  name: '0006_memory_distillation',
  async up(db) {
    await sql`alter table memory_facts add column evidence jsonb not null default '[]'`.execute(db);
    await sql`create table memory_distill_cursors (
      user_id text not null,
      agent_id text not null,
      thread_id text not null,
      namespace text not null,
      occurred_at bigint not null,
      seq bigint not null,
      updated_at bigint not null,
      primary key (user_id, agent_id, thread_id, namespace)
    )`.execute(db);
  },
};
