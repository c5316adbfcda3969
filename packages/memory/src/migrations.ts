import { invalidArgument } from '@agentrix/core/implement';
import { createVectorIndex, type Migration, vectorColumnType } from '@agentrix/store';
import { type Kysely, sql } from 'kysely';
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

/**
 * BM25's statistics per scope, kept by the database as rows are written: for each table
 * (`source`) and each scope (user, agent, thread, namespace), its rows and their total length
 * (`memory_scope_statistics`), and the rows each lexeme is in (`memory_term_statistics`). A search
 * sums the scopes it may see, so a scope of 50,000 rows is not read for its size and document
 * frequencies on every query (bench/memory, 100,000 rows, one agent's 50,000: counting its rows
 * and average length was 88 ms of a 206 ms search by EXPLAIN ANALYZE). Statement-level triggers
 * with transition tables count every insert, update and delete, whoever writes: at commit on
 * Postgres ({@link createCommitTimeCounting}), by each statement on PGlite.
 */
const termStatisticsMigration: Migration = {
  name: '0008_memory_term_statistics',
  async up(db, database) {
    await sql`create table memory_scope_statistics (
      source text not null,
      user_id text not null,
      agent_id text not null,
      thread_id text not null,
      namespace text not null,
      documents bigint not null,
      length bigint not null,
      primary key (source, user_id, agent_id, thread_id, namespace)
    )`.execute(db);
    await sql`create table memory_term_statistics (
      source text not null,
      lexeme text not null,
      user_id text not null,
      agent_id text not null,
      thread_id text not null,
      namespace text not null,
      documents bigint not null,
      primary key (source, lexeme, user_id, agent_id, thread_id, namespace)
    )`.execute(db);
    if (database.dialect === 'postgres') await createCommitTimeCounting(db);
    else await createStatementCounting(db);
    for (const table of ['memory_episodes', 'memory_facts']) {
      const source = sql.lit(table);
      // No write between the count of the rows there and the triggers that count the next ones.
      await sql`lock table ${sql.table(table)} in share row exclusive mode`.execute(db);
      await sql`insert into memory_scope_statistics
        select ${source}, user_id, agent_id, thread_id, namespace, count(*), sum(search_length)
        from ${sql.table(table)} group by 2, 3, 4, 5`.execute(db);
      await sql`insert into memory_term_statistics
        select ${source}, u.lexeme, t.user_id, t.agent_id, t.thread_id, t.namespace, count(*)
        from ${sql.table(table)} t, unnest(t.search) u group by 2, 3, 4, 5, 6`.execute(db);
      for (const [operation, tables] of [
        ['insert', sql`new table as new_rows`],
        ['update', sql`old table as old_rows new table as new_rows`],
        ['delete', sql`old table as old_rows`],
      ] as const) {
        await sql`create trigger ${sql.ref(`${table}_terms_${operation}`)} after ${sql.raw(operation)} on ${sql.table(table)}
          referencing ${tables} for each statement execute function memory_count_terms(${source})`.execute(db);
      }
    }
  },
};

/**
 * Postgres: each write statement's trigger only notes its changes (-1 for old rows, +1 for new
 * ones) in a temporary table of the session, emptied at commit; at commit, before that, one
 * deferred trigger applies the transaction's changes summed per row, as ONE upsert a table in
 * primary key order (scope rows, then term rows). Statistics rows are so locked only at commit,
 * all in one order, while the transaction waits for nothing else: no two writers can deadlock on
 * them, whatever their statements' number and order (several facts a turn, forgetUser across a
 * user's scopes beside an import into them). Updated by each statement instead (in order within
 * it), they deadlocked (statistics-concurrency.int.test.ts, every run). Rows a commit brings to
 * 0 are deleted by that commit: it holds their locks already. A row whose changes sum to 0 (a
 * fact rewritten with the same words) is not touched. `agentrix.memory_statistics` marks a
 * transaction with changes noted, so the deferred trigger is queued once.
 */
async function createCommitTimeCounting(db: Kysely<unknown>): Promise<void> {
  await sql`create function memory_count_terms() returns trigger language plpgsql as $$
    begin
      if coalesce(current_setting('agentrix.memory_statistics', true), '') = '' then
        -- Once a transaction: the session's table and its commit trigger, made again if a drop
        -- (DISCARD ALL, a dropped schema) took either.
        if not exists (select from pg_trigger where tgname = 'memory_statistics_commit'
            and tgrelid = coalesce(to_regclass('pg_temp.memory_statistics_changes'), 0)) then
          drop table if exists pg_temp.memory_statistics_changes;
          create temporary table memory_statistics_changes (
            source text not null,
            lexeme text,
            user_id text,
            agent_id text,
            thread_id text,
            namespace text,
            documents bigint not null,
            length bigint not null
          ) on commit delete rows;
          create constraint trigger memory_statistics_commit after insert on pg_temp.memory_statistics_changes
            deferrable initially deferred for each row when (new.source = '') execute function memory_apply_terms();
        end if;
        insert into pg_temp.memory_statistics_changes (source, documents, length) values ('', 0, 0);
        perform set_config('agentrix.memory_statistics', 'noted', true);
      end if;
      -- The statistics rows a commit brings to 0 are looked for only after a delete or an update.
      if tg_op <> 'INSERT' then
        perform set_config('agentrix.memory_statistics', 'deleted', true);
        insert into pg_temp.memory_statistics_changes
        select tg_argv[0], null, user_id, agent_id, thread_id, namespace, -count(*), -sum(search_length)
        from old_rows group by 3, 4, 5, 6
        union all
        select tg_argv[0], u.lexeme, o.user_id, o.agent_id, o.thread_id, o.namespace, -count(*), 0
        from old_rows o, unnest(o.search) u group by 2, 3, 4, 5, 6;
      end if;
      if tg_op <> 'DELETE' then
        insert into pg_temp.memory_statistics_changes
        select tg_argv[0], null, user_id, agent_id, thread_id, namespace, count(*), sum(search_length)
        from new_rows group by 3, 4, 5, 6
        union all
        select tg_argv[0], u.lexeme, n.user_id, n.agent_id, n.thread_id, n.namespace, count(*), 0
        from new_rows n, unnest(n.search) u group by 2, 3, 4, 5, 6;
      end if;
      return null;
    end $$`.execute(db);
  await sql`create function memory_apply_terms() returns trigger language plpgsql as $$
    begin
      insert into memory_scope_statistics as s
      select source, user_id, agent_id, thread_id, namespace, sum(documents), sum(length)
      from pg_temp.memory_statistics_changes where source <> '' and lexeme is null
      group by 1, 2, 3, 4, 5 having sum(documents) <> 0 or sum(length) <> 0 order by 1, 2, 3, 4, 5
      on conflict (source, user_id, agent_id, thread_id, namespace) do update
      set documents = s.documents + excluded.documents, length = s.length + excluded.length;
      insert into memory_term_statistics as s
      select source, lexeme, user_id, agent_id, thread_id, namespace, sum(documents)
      from pg_temp.memory_statistics_changes where lexeme is not null
      group by 1, 2, 3, 4, 5, 6 having sum(documents) <> 0 order by 1, 2, 3, 4, 5, 6
      on conflict (source, lexeme, user_id, agent_id, thread_id, namespace) do update
      set documents = s.documents + excluded.documents;
      -- Only rows this commit just upserted can be at 0: their locks are held already.
      if current_setting('agentrix.memory_statistics') = 'deleted' then
        delete from memory_scope_statistics s using pg_temp.memory_statistics_changes c
        where c.lexeme is null and c.documents < 0 and s.source = c.source and s.user_id = c.user_id
          and s.agent_id = c.agent_id and s.thread_id = c.thread_id and s.namespace = c.namespace and s.documents <= 0;
        delete from memory_term_statistics s using pg_temp.memory_statistics_changes c
        where c.lexeme is not null and c.documents < 0 and s.source = c.source and s.lexeme = c.lexeme
          and s.user_id = c.user_id and s.agent_id = c.agent_id and s.thread_id = c.thread_id
          and s.namespace = c.namespace and s.documents <= 0;
      end if;
      -- SET CONSTRAINTS ... IMMEDIATE runs this before commit: later writes note changes anew.
      delete from pg_temp.memory_statistics_changes;
      perform set_config('agentrix.memory_statistics', '', true);
      return null;
    end $$`.execute(db);
}

/**
 * PGlite: one connection, so no two transactions ever run at once and none can deadlock; each
 * statement applies its own changes at once (one upsert a table, in key order). Deferring them to
 * the commit, as on Postgres, cost a single-turn `recordEpisode` 0.8 ms of CPU more (~2.2 against
 * ~1.45 ms, PGlite, load average 5, three runs each).
 */
async function createStatementCounting(db: Kysely<unknown>): Promise<void> {
  // Each operation's rows as changes: -1 for an old row, +1 for a new one. A branch that does not
  // run is never planned, so the insert trigger never sees `old_rows`.
  const rows = {
    INSERT: ['new_rows'],
    DELETE: ['old_rows'],
    UPDATE: ['old_rows', 'new_rows'],
  } as const;
  const sign = (table: string) => (table === 'old_rows' ? '-' : '');
  const scopes = (tables: readonly string[]) =>
    tables
      .map(
        (t) =>
          `select user_id, agent_id, thread_id, namespace, ${sign(t)}1 as documents, ${sign(t)}search_length as length from ${t}`,
      )
      .join(' union all ');
  const terms = (tables: readonly string[]) =>
    tables
      .map(
        (t) =>
          `select u.lexeme, r.user_id, r.agent_id, r.thread_id, r.namespace, ${sign(t)}1 as documents from ${t} r, unnest(r.search) u`,
      )
      .join(' union all ');
  const apply = (operation: keyof typeof rows) => {
    const tables = rows[operation];
    const upserts = `
      insert into memory_scope_statistics as s
      select tg_argv[0], user_id, agent_id, thread_id, namespace, sum(documents), sum(length) from (${scopes(tables)}) c
      group by 2, 3, 4, 5 having sum(documents) <> 0 or sum(length) <> 0 order by 2, 3, 4, 5
      on conflict (source, user_id, agent_id, thread_id, namespace) do update
      set documents = s.documents + excluded.documents, length = s.length + excluded.length;
      insert into memory_term_statistics as s
      select tg_argv[0], lexeme, user_id, agent_id, thread_id, namespace, sum(documents) from (${terms(tables)}) c
      group by 2, 3, 4, 5, 6 having sum(documents) <> 0 order by 2, 3, 4, 5, 6
      on conflict (source, lexeme, user_id, agent_id, thread_id, namespace) do update
      set documents = s.documents + excluded.documents;`;
    if (operation === 'INSERT') return upserts;
    return `${upserts}
      delete from memory_scope_statistics s using (select distinct user_id, agent_id, thread_id, namespace from old_rows) c
      where s.source = tg_argv[0] and s.user_id = c.user_id and s.agent_id = c.agent_id
        and s.thread_id = c.thread_id and s.namespace = c.namespace and s.documents <= 0;
      delete from memory_term_statistics s using (select distinct u.lexeme, o.user_id, o.agent_id, o.thread_id, o.namespace
          from old_rows o, unnest(o.search) u) c
      where s.source = tg_argv[0] and s.lexeme = c.lexeme and s.user_id = c.user_id and s.agent_id = c.agent_id
        and s.thread_id = c.thread_id and s.namespace = c.namespace and s.documents <= 0;`;
  };
  await sql
    .raw(`create function memory_count_terms() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then ${apply('INSERT')}
      elsif tg_op = 'DELETE' then ${apply('DELETE')}
      else ${apply('UPDATE')}
      end if;
      return null;
    end $$`)
    .execute(db);
}

/**
 * The full-text indexes without a pending list (`fastupdate = off`): a GIN index keeps new
 * entries in an unsorted list that every search reads whole until VACUUM (autovacuum) moves them
 * into the index or it outgrows `gin_pending_list_limit` (4 MB). PGlite runs no autovacuum, so
 * the list stayed at up to 4 MB: bench/memory, 100,000 rows, one word's 198 matches took 12.8 ms
 * of CPU through the index with it and 1.1 ms without (`gin_clean_pending_list`). Writes then
 * insert into the index directly: an import 0.46 ms a turn either way, a single turn within the
 * noise (PGlite, load average 5). The list there now is moved into the index.
 */
const searchIndexMigration: Migration = {
  name: '0009_memory_search_no_pending_list',
  async up(db) {
    for (const index of ['memory_episodes_search', 'memory_facts_search']) {
      await sql`alter index ${sql.ref(index)} set (fastupdate = off)`.execute(db);
      await sql`select gin_clean_pending_list(${index}::regclass)`.execute(db);
    }
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
  const migrations = [
    baseMigration,
    threadsMigration,
    eventTimeMigration,
    distillMigration,
    scopeStatisticsMigration,
    termStatisticsMigration,
    searchIndexMigration,
  ];
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
