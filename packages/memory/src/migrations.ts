import { invalidArgument } from '@agentrix/core/implement';
import { createVectorIndex, type Migration, vectorColumnType } from '@agentrix/store';
import { sql } from 'kysely';
import { distillMigration } from './distill-migration.js';

/** The full-text configuration used for every memory table. */
export const TEXT_SEARCH_CONFIG = 'english';

/** Tables and indexes every memory needs (no embeddings). */
const baseMigration: Migration = {
  name: '0001_memory_tables',
  async up(db) {
    await sql`create table memory_facts (
      id text primary key,
      user_id text not null default '',
      agent_id text not null default '',
      namespace text not null default '',
      key text not null,
      text text not null,
      truncated boolean not null default false,
      tags jsonb not null default '[]',
      source_episode_id text,
      created_at bigint not null,
      updated_at bigint not null,
      search tsvector generated always as (to_tsvector('english', key || ' ' || text)) stored,
      unique (user_id, agent_id, namespace, key)
    )`.execute(db);
    await sql`create index memory_facts_search on memory_facts using gin (search)`.execute(db);
    await sql`create index memory_facts_user on memory_facts (user_id)`.execute(db);
    await sql`create table memory_episodes (
      id text primary key,
      user_id text not null default '',
      agent_id text not null default '',
      namespace text not null default '',
      text text not null,
      summary jsonb,
      unstructured boolean not null default false,
      truncated boolean not null default false,
      tags jsonb not null default '[]',
      created_at bigint not null,
      search tsvector generated always as (to_tsvector('english', text)) stored
    )`.execute(db);
    await sql`create index memory_episodes_search on memory_episodes using gin (search)`.execute(db);
    await sql`create index memory_episodes_recent on memory_episodes (user_id, agent_id, created_at desc)`.execute(db);
  },
};

/**
 * Threads and the turn commit: every row records its thread (`thread_id`, '' for none), a fact's
 * key is unique per thread too (a thread-only fact of one chat never overwrites another's), and
 * an episode records the message its turn answered, unique per agent, so a redelivered turn
 * records its episode once.
 */
const threadsMigration: Migration = {
  name: '0003_memory_threads',
  async up(db) {
    await sql`alter table memory_facts add column thread_id text not null default ''`.execute(db);
    // The name Postgres gave the unique constraint of 0001.
    await sql`alter table memory_facts drop constraint memory_facts_user_id_agent_id_namespace_key_key`.execute(db);
    await sql`alter table memory_facts add constraint memory_facts_scope_key
      unique (user_id, agent_id, namespace, thread_id, key)`.execute(db);
    await sql`alter table memory_episodes add column thread_id text not null default ''`.execute(db);
    // Null for episodes recorded outside a turn: nulls never conflict.
    await sql`alter table memory_episodes add column message_id text`.execute(db);
    await sql`alter table memory_episodes add constraint memory_episodes_message unique (agent_id, message_id)`.execute(
      db,
    );
    await sql`create index memory_episodes_thread on memory_episodes (agent_id, thread_id)`.execute(db);
  },
};

/**
 * Event time and ranking: `occurred_at` is when an episode was said (an import keeps its
 * original dates), `created_at` stays the write time; `search_length` is a row's length for BM25. `seq` orders episodes written with the same time, so the
 * turn before and after a match can be found; the timeline index serves both and recency.
 */
const eventTimeMigration: Migration = {
  name: '0004_memory_event_time_bm25',
  async up(db) {
    await sql`alter table memory_episodes add column occurred_at bigint`.execute(db);
    await sql`update memory_episodes set occurred_at = created_at`.execute(db);
    await sql`alter table memory_episodes alter column occurred_at set not null`.execute(db);
    await sql`alter table memory_episodes add column seq bigint generated always as identity`.execute(db);
    await sql`create index memory_episodes_timeline
      on memory_episodes (user_id, agent_id, thread_id, namespace, occurred_at, seq)`.execute(db);
    // BM25's document length, kept beside the tsvector: averaging it over a scope reads no tsvector
    // (the average over 666 rows' tsvectors took 9 of a query's 17 ms on PGlite).
    await sql`alter table memory_episodes add column search_length integer
      generated always as (length(to_tsvector('english', text))) stored`.execute(db);
    await sql`alter table memory_facts add column search_length integer
      generated always as (length(to_tsvector('english', key || ' ' || text))) stored`.execute(db);
    await sql`drop index memory_episodes_recent`.execute(db);
    await sql`create index memory_episodes_recent on memory_episodes (user_id, agent_id, occurred_at desc)`.execute(db);
  },
};

/**
 * The planner's estimate of a scope's rows. A user's scope is `user_id in ('', user) and agent_id
 * = ''`; with one agent's rows of no user in the table, the columns taken apart said half of the
 * table (25,334 of 100,000 rows for a user's 666), so plans read the table where the scope index
 * would do. Statistics of the two columns together (their most common pairs) give 653.
 */
const scopeStatisticsMigration: Migration = {
  name: '0007_memory_scope_statistics',
  async up(db) {
    for (const table of ['memory_episodes', 'memory_facts']) {
      await sql`create statistics ${sql.ref(`${table}_scope`)} (mcv) on user_id, agent_id from ${sql.table(table)}`.execute(
        db,
      );
    }
    // Filled by the next ANALYZE: now, for a database that already has rows.
    await sql`analyze memory_episodes, memory_facts`.execute(db);
  },
};

/** The embedding column for embedders of `dimensions` numbers: one column per dimension count. */
export function embeddingColumn(dimensions: number): string {
  return `embedding_d${dimensions}`;
}

/**
 * The memory package's migrations. With `dimensions` (your embedder's), another migration adds
 * an embedding column of that size to the fact and episode tables (`vector(n)` with pgvector,
 * `real[]` otherwise), and one more an HNSW index on it when pgvector is loaded. Changing to an
 * embedder of another size adds another column; texts are embedded again only as they are
 * written again.
 */
export function memoryMigrations(options: { dimensions?: number | undefined } = {}): Migration[] {
  const migrations = [baseMigration, threadsMigration, eventTimeMigration, distillMigration, scopeStatisticsMigration];
  const dimensions = options.dimensions;
  if (dimensions !== undefined) {
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 16_000) {
      throw invalidArgument(`Invalid embedder dimensions ${dimensions}: expected an integer from 1 to 16000`);
    }
    const name = embeddingColumn(dimensions);
    migrations.push({
      name: `0002_memory_${name}`,
      async up(db, database) {
        for (const table of ['memory_facts', 'memory_episodes']) {
          await sql`alter table ${sql.table(table)} add column ${sql.ref(name)} ${vectorColumnType(database, dimensions)}`.execute(
            db,
          );
        }
      },
    });
    migrations.push({
      name: `0005_memory_${name}_hnsw`,
      async up(db, database) {
        for (const table of ['memory_facts', 'memory_episodes'])
          await createVectorIndex(db, database, { table, column: name });
      },
    });
  }
  return migrations;
}
