import type { AgentContext, ContextStore, ThreadInfo } from '@agentrix/core';
import { invalidArgument, toNumber } from '@agentrix/core/implement';
import { type Kysely, sql } from 'kysely';
import type { Database } from './database.js';
import { storeError } from './errors.js';
import { jsonb } from './json.js';
import { type StoreTables, storeKysely } from './store-tables.js';

export interface SqlContextStoreOptions {
  /** A database migrated with `storeMigrations`. Not closed by the store. */
  database: Database;
}

/**
 * Contexts in `agentrix_contexts`: one JSONB document per (agent, thread) with its schema version
 * in its own column. `load` returns the document as stored, whatever its version: the runtime's
 * `upgradeContext` brings old versions up to date (and rejects unknown ones). A version 1
 * document (written before threads) is its agent's `main` thread.
 */
export class SqlContextStore implements ContextStore {
  readonly #db: Kysely<StoreTables>;

  constructor(options: SqlContextStoreOptions) {
    if (!options?.database) throw invalidArgument('SqlContextStore needs { database }');
    this.#db = storeKysely(options.database.kysely);
  }

  async load(agentId: string, threadId: string): Promise<AgentContext | undefined> {
    try {
      const row = await this.#db
        .selectFrom('agentrix_contexts')
        .select('context')
        .where('agent_id', '=', agentId)
        .where('thread_id', '=', threadId)
        .executeTakeFirst();
      return row?.context;
    } catch (error) {
      throw storeError(error, `loading the context of ${agentId} (thread ${threadId})`);
    }
  }

  async save(context: AgentContext): Promise<void> {
    if (typeof context?.agentId !== 'string') throw invalidArgument('save expects an AgentContext with an agentId');
    const threadId = typeof context.threadId === 'string' ? context.threadId : 'main';
    const version = typeof context.version === 'number' ? context.version : 0;
    const document = jsonb(context);
    const updatedAt = context.updatedAt ?? 0;
    try {
      await this.#db
        .insertInto('agentrix_contexts')
        .values({ agent_id: context.agentId, thread_id: threadId, version, context: document, updated_at: updatedAt })
        .onConflict((conflict) =>
          conflict
            .columns(['agent_id', 'thread_id'])
            .doUpdateSet({ version, context: document, updated_at: updatedAt }),
        )
        .execute();
    } catch (error) {
      throw storeError(error, `saving the context of ${context.agentId} (thread ${threadId})`);
    }
  }

  async delete(agentId: string, threadId?: string): Promise<number> {
    try {
      let query = this.#db.deleteFrom('agentrix_contexts').where('agent_id', '=', agentId);
      if (threadId !== undefined) query = query.where('thread_id', '=', threadId);
      const result = await query.executeTakeFirst();
      return Number(result.numDeletedRows);
    } catch (error) {
      throw storeError(
        error,
        `deleting the context of ${agentId}${threadId === undefined ? '' : ` (thread ${threadId})`}`,
      );
    }
  }

  async threads(agentId: string, options: { limit?: number } = {}): Promise<ThreadInfo[]> {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw invalidArgument(`Invalid threads limit ${String(limit)}: expected a whole number from 1 to 10000`);
    }
    try {
      const rows = await this.#db
        .selectFrom('agentrix_contexts')
        // A JSON field as text (null in a document without it): JSON operators stay raw SQL.
        .select(['thread_id', 'updated_at', sql<string | null>`context->>'turns'`.as('turns')])
        .where('agent_id', '=', agentId)
        .orderBy('updated_at', 'desc')
        .orderBy('thread_id')
        .limit(limit)
        .execute();
      return rows.map((row) => ({
        threadId: row.thread_id,
        turns: toNumber(row.turns ?? 0),
        updatedAt: toNumber(row.updated_at),
      }));
    } catch (error) {
      throw storeError(error, `listing the threads of ${agentId}`);
    }
  }
}
