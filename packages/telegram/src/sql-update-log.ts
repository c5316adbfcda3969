import { AgentrixError, type SerializedError } from '@agentrix/core';
import type { Database, Migration } from '@agentrix/store';
import { sql } from 'kysely';
import type { MarkFields, UpdateLog, UpdateRecord, UpdateStatus } from './update-log.js';

/** The telegram package's tables: one row per update, keyed by (bot, update_id). */
export const telegramMigrations: readonly Migration[] = [
  {
    name: '0001_telegram_updates',
    async up(db) {
      await sql`create table telegram_updates (
        bot_id text not null,
        update_id bigint not null,
        status text not null,
        payload jsonb not null,
        chat_id bigint,
        topic_id bigint,
        agent_id text,
        thread_id text,
        attempts integer not null default 0,
        error jsonb,
        received_at bigint not null,
        updated_at bigint not null,
        primary key (bot_id, update_id)
      )`.execute(db);
      // Only interrupted updates are looked up by status (at start): keep the index that small.
      await sql`create index telegram_updates_received on telegram_updates (bot_id, update_id)
        where status = 'received'`.execute(db);
    },
  },
  {
    name: '0002_telegram_updates_shown_message',
    async up(db) {
      await sql`alter table telegram_updates add column shown_message_id bigint`.execute(db);
    },
  },
];

interface UpdateRow {
  bot_id: string;
  update_id: unknown;
  status: UpdateStatus;
  payload: unknown;
  chat_id: unknown;
  topic_id: unknown;
  agent_id: string | null;
  thread_id: string | null;
  attempts: unknown;
  error: SerializedError | null;
  shown_message_id: unknown;
  received_at: unknown;
  updated_at: unknown;
}

/**
 * The {@link UpdateLog} on the store's database (PGlite or Postgres): an update is recorded with
 * one `insert ... on conflict do nothing`, so two processes receiving one update (a webhook
 * retried to another replica) record it once, and a restarted process finds what it was doing.
 */
export class SqlUpdateLog implements UpdateLog {
  readonly #database: Database;

  /** Use {@link openSqlUpdateLog}, which applies the migration first. */
  constructor(database: Database) {
    this.#database = database;
  }

  async record(botId: string, updateId: number, update: unknown, at: number) {
    const db = this.#database.kysely;
    const inserted = await guard('record', () =>
      sql<UpdateRow>`insert into telegram_updates (bot_id, update_id, status, payload, received_at, updated_at)
        values (${botId}, ${updateId}, 'received', ${JSON.stringify(update)}::jsonb, ${at}, ${at})
        on conflict do nothing
        returning *`.execute(db),
    );
    const row = inserted.rows[0];
    if (row !== undefined) return { fresh: true, record: fromRow(row) };
    const known = await this.get(botId, updateId);
    if (known === undefined) throw new AgentrixError('INTERNAL', `Update ${updateId} vanished while being recorded`);
    return { fresh: false, record: known };
  }

  async get(botId: string, updateId: number): Promise<UpdateRecord | undefined> {
    const result = await guard('get', () =>
      sql<UpdateRow>`select * from telegram_updates where bot_id = ${botId} and update_id = ${updateId}`.execute(
        this.#database.kysely,
      ),
    );
    const row = result.rows[0];
    return row === undefined ? undefined : fromRow(row);
  }

  async mark(
    botId: string,
    updateId: number,
    status: UpdateStatus,
    at: number,
    fields: MarkFields = {},
  ): Promise<void> {
    await guard('mark', () =>
      sql`update telegram_updates set
          status = case when status in ('answered', 'failed') and ${status} in ('received', 'dispatched')
            then status else ${status} end,
          updated_at = ${at},
          chat_id = coalesce(${fields.chatId ?? null}, chat_id),
          topic_id = coalesce(${fields.topicId ?? null}, topic_id),
          agent_id = coalesce(${fields.agentId ?? null}, agent_id),
          thread_id = coalesce(${fields.threadId ?? null}, thread_id),
          attempts = coalesce(${fields.attempts ?? null}, attempts),
          shown_message_id = coalesce(${fields.shownMessageId ?? null}, shown_message_id),
          error = coalesce(${fields.error === undefined ? null : JSON.stringify(fields.error)}::jsonb, error)
        where bot_id = ${botId} and update_id = ${updateId}`.execute(this.#database.kysely),
    );
  }

  async unhandled(botId: string, limit: number): Promise<UpdateRecord[]> {
    const result = await guard('unhandled', () =>
      sql<UpdateRow>`select * from telegram_updates where bot_id = ${botId} and status = 'received'
        order by update_id limit ${limit}`.execute(this.#database.kysely),
    );
    return result.rows.map(fromRow);
  }

  async prune(botId: string, before: number): Promise<number> {
    const result = await guard('prune', () =>
      sql`delete from telegram_updates where bot_id = ${botId} and status <> 'received' and updated_at < ${before}`.execute(
        this.#database.kysely,
      ),
    );
    return Number(result.numAffectedRows ?? 0);
  }
}

/** Applies {@link telegramMigrations} on `database` and returns the log on it. */
export async function openSqlUpdateLog(database: Database): Promise<SqlUpdateLog> {
  await database.migrate(telegramMigrations);
  return new SqlUpdateLog(database);
}

async function guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (AgentrixError.isInstance(error)) throw error;
    throw new AgentrixError('STORE_UNAVAILABLE', `Telegram update log: ${operation} failed`, { cause: error });
  }
}

function fromRow(row: UpdateRow): UpdateRecord {
  const record: UpdateRecord = {
    botId: row.bot_id,
    updateId: Number(row.update_id),
    status: row.status,
    update: row.payload,
    attempts: Number(row.attempts),
    receivedAt: Number(row.received_at),
    updatedAt: Number(row.updated_at),
  };
  if (row.chat_id !== null) record.chatId = Number(row.chat_id);
  if (row.topic_id !== null) record.topicId = Number(row.topic_id);
  if (row.agent_id !== null) record.agentId = row.agent_id;
  if (row.thread_id !== null) record.threadId = row.thread_id;
  if (row.error !== null) record.error = row.error;
  if (row.shown_message_id !== null) record.shownMessageId = Number(row.shown_message_id);
  return record;
}
