import type { AgentContext, ContextStore } from '@agentrix/core';
import type { Database } from './database.js';
import { invalidArgument, storeError } from './errors.js';
import { jsonb } from './json.js';

export interface SqlContextStoreOptions {
  /** A database migrated with `storeMigrations`. Not closed by the store. */
  database: Database;
}

/**
 * Agent contexts in `agentrix_contexts`: one JSONB document per agent with its schema version in
 * its own column. `load` returns the document as stored, whatever its version: the runtime's
 * `upgradeContext` brings old versions up to date (and rejects unknown ones).
 */
export class SqlContextStore implements ContextStore {
  readonly #database: Database;

  constructor(options: SqlContextStoreOptions) {
    if (!options?.database) throw invalidArgument('SqlContextStore needs { database }');
    this.#database = options.database;
  }

  async load(agentId: string): Promise<AgentContext | undefined> {
    try {
      const row = await this.#database.kysely
        .selectFrom('agentrix_contexts')
        .select('context')
        .where('agent_id', '=', agentId)
        .executeTakeFirst();
      return row?.context as AgentContext | undefined;
    } catch (error) {
      throw storeError(error, `loading the context of ${agentId}`);
    }
  }

  async save(context: AgentContext): Promise<void> {
    if (typeof context?.agentId !== 'string') throw invalidArgument('save expects an AgentContext with an agentId');
    const version = typeof context.version === 'number' ? context.version : 0;
    const document = jsonb(context);
    try {
      await this.#database.kysely
        .insertInto('agentrix_contexts')
        .values({ agent_id: context.agentId, version, context: document, updated_at: context.updatedAt ?? 0 })
        .onConflict((conflict) =>
          conflict.column('agent_id').doUpdateSet({ version, context: document, updated_at: context.updatedAt ?? 0 }),
        )
        .execute();
    } catch (error) {
      throw storeError(error, `saving the context of ${context.agentId}`);
    }
  }

  async delete(agentId: string): Promise<void> {
    try {
      await this.#database.kysely.deleteFrom('agentrix_contexts').where('agent_id', '=', agentId).execute();
    } catch (error) {
      throw storeError(error, `deleting the context of ${agentId}`);
    }
  }
}
