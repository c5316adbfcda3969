import { AgentrixError, type SerializedError } from '@agentrix/core';
import { type Database, type Int8Column, type JsonbColumn, jsonb, jsonColumn, type Migration } from '@agentrix/store';
import { type Generated, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
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

/** The tables of {@link telegramMigrations}, as kysely sees them: a renamed column fails the type check. */
export interface TelegramTables {
  telegram_updates: UpdatesTable;
}

interface UpdatesTable {
  bot_id: string;
  update_id: Int8Column;
  status: UpdateStatus;
  payload: JsonbColumn<unknown>;
  chat_id: Int8Column | null;
  topic_id: Int8Column | null;
  agent_id: string | null;
  thread_id: string | null;
  attempts: Generated<number>;
  error: JsonbColumn<SerializedError> | null;
  shown_message_id: Int8Column | null;
  received_at: Int8Column;
  updated_at: Int8Column;
}

/**
 * The {@link UpdateLog} on the store's database (PGlite or Postgres): an update is recorded with
 * one `insert ... on conflict do nothing`, so two processes receiving one update (a webhook
 * retried to another replica) record it once, and a restarted process finds what it was doing.
 */
export class SqlUpdateLog implements UpdateLog {
  readonly #db: Kysely<TelegramTables>;

  /** Use {@link openSqlUpdateLog}, which applies the migration first. */
  constructor(database: Database) {
    this.#db = database.kysely as Kysely<TelegramTables>;
  }

  async record(botId: string, updateId: number, update: unknown, at: number) {
    const row = await guard('record', () =>
      this.#db
        .insertInto('telegram_updates')
        .values({
          bot_id: botId,
          update_id: updateId,
          status: 'received',
          payload: jsonb(update),
          received_at: at,
          updated_at: at,
        })
        .onConflict((conflict) => conflict.doNothing())
        .returningAll()
        .executeTakeFirst(),
    );
    if (row !== undefined) return { fresh: true, record: fromRow(row) };
    const known = await this.get(botId, updateId);
    if (known === undefined) throw new AgentrixError('INTERNAL', `Update ${updateId} vanished while being recorded`);
    return { fresh: false, record: known };
  }

  async get(botId: string, updateId: number): Promise<UpdateRecord | undefined> {
    const row = await guard('get', () =>
      this.#db
        .selectFrom('telegram_updates')
        .selectAll()
        .where('bot_id', '=', botId)
        .where('update_id', '=', updateId)
        .executeTakeFirst(),
    );
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
      this.#db
        .updateTable('telegram_updates')
        .set((eb) => ({
          // An answered or failed update keeps that status: a late received / dispatched mark
          // (the answer came before the dispatch was recorded) does not undo it.
          status:
            status === 'received' || status === 'dispatched'
              ? eb.case().when('status', 'in', ['answered', 'failed']).then(eb.ref('status')).else(status).end()
              : status,
          updated_at: at,
          ...givenFields(fields),
        }))
        .where('bot_id', '=', botId)
        .where('update_id', '=', updateId)
        .execute(),
    );
  }

  async unhandled(botId: string, limit: number): Promise<UpdateRecord[]> {
    const rows = await guard('unhandled', () =>
      this.#db
        .selectFrom('telegram_updates')
        .selectAll()
        .where('bot_id', '=', botId)
        .where('status', '=', 'received')
        .orderBy('update_id')
        .limit(limit)
        .execute(),
    );
    return rows.map(fromRow);
  }

  async prune(botId: string, before: number): Promise<number> {
    const result = await guard('prune', () =>
      this.#db
        .deleteFrom('telegram_updates')
        .where('bot_id', '=', botId)
        .where('status', '<>', 'received')
        .where('updated_at', '<', before)
        .executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }
}

/** The columns a mark sets besides the status: only those given (the others keep their value). */
function givenFields(fields: MarkFields): Updateable<UpdatesTable> {
  const set: Updateable<UpdatesTable> = {};
  if (fields.chatId != null) set.chat_id = fields.chatId;
  if (fields.topicId != null) set.topic_id = fields.topicId;
  if (fields.agentId != null) set.agent_id = fields.agentId;
  if (fields.threadId != null) set.thread_id = fields.threadId;
  if (fields.attempts != null) set.attempts = fields.attempts;
  if (fields.shownMessageId != null) set.shown_message_id = fields.shownMessageId;
  if (fields.error != null) set.error = jsonb(fields.error);
  return set;
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

function fromRow(row: Selectable<UpdatesTable>): UpdateRecord {
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
  const error = jsonColumn<SerializedError>(row.error);
  if (error !== undefined) record.error = error;
  if (row.shown_message_id !== null) record.shownMessageId = Number(row.shown_message_id);
  return record;
}
