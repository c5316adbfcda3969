import type { AgentRegistry, AgentRegistryEntry, AgentState, Clock, SerializedError } from '@agentrix/core';
import { systemClock } from '@agentrix/core';
import { invalidArgument, toNumber } from '@agentrix/core/implement';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from './database.js';
import { storeError } from './errors.js';
import { jsonb, jsonColumn } from './json.js';
import { type AgentsTable, type StoreTables, storeKysely } from './store-tables.js';

export interface SqlAgentRegistryOptions {
  /** A database migrated with `storeMigrations`. Not closed by the registry. */
  database: Database;
  /** `updatedAt` of state changes. Default `systemClock`. */
  clock?: Clock;
}

type AgentRow = Pick<Selectable<AgentsTable>, 'spec' | 'state' | 'last_error' | 'created_at' | 'updated_at'>;

/**
 * Agent specs and states in `agentrix_agents`, so a restarted process can bring every agent
 * back (`AgentManager.restore()`). `list()` returns agents in the order they were first saved,
 * so parents come before the children they created.
 */
export class SqlAgentRegistry implements AgentRegistry {
  readonly #db: Kysely<StoreTables>;
  readonly #clock: Clock;

  constructor(options: SqlAgentRegistryOptions) {
    if (!options?.database) throw invalidArgument('SqlAgentRegistry needs { database }');
    this.#db = storeKysely(options.database.kysely);
    this.#clock = options.clock ?? systemClock;
  }

  async save(entry: AgentRegistryEntry): Promise<void> {
    const id = entry?.spec?.id;
    if (typeof id !== 'string') throw invalidArgument('save expects an entry with spec.id');
    const values = {
      parent_id: entry.spec.parentId ?? null,
      spec: jsonb(entry.spec),
      state: entry.state,
      last_error: entry.lastError === undefined ? null : jsonb(entry.lastError),
      updated_at: entry.updatedAt,
    };
    try {
      await this.#db
        .insertInto('agentrix_agents')
        .values({ agent_id: id, created_at: entry.createdAt, ...values })
        .onConflict((conflict) => conflict.column('agent_id').doUpdateSet({ ...values, created_at: entry.createdAt }))
        .execute();
    } catch (error) {
      throw storeError(error, `saving agent ${id}`);
    }
  }

  async setState(agentId: string, state: AgentState, lastError?: SerializedError): Promise<void> {
    try {
      await this.#db
        .updateTable('agentrix_agents')
        .set({
          state,
          last_error: lastError === undefined ? null : jsonb(lastError),
          updated_at: this.#clock.now(),
        })
        .where('agent_id', '=', agentId)
        .execute();
    } catch (error) {
      throw storeError(error, `recording the state of agent ${agentId}`);
    }
  }

  async load(agentId: string): Promise<AgentRegistryEntry | undefined> {
    try {
      const row = await this.#select().where('agent_id', '=', agentId).executeTakeFirst();
      return row === undefined ? undefined : toEntry(row);
    } catch (error) {
      throw storeError(error, `loading agent ${agentId}`);
    }
  }

  async list(): Promise<AgentRegistryEntry[]> {
    try {
      const rows = await this.#select().orderBy('seq').execute();
      return rows.map(toEntry);
    } catch (error) {
      throw storeError(error, 'listing agents');
    }
  }

  /** The children of `parentId` (not grandchildren), oldest first. */
  async children(parentId: string): Promise<AgentRegistryEntry[]> {
    try {
      const rows = await this.#select().where('parent_id', '=', parentId).orderBy('seq').execute();
      return rows.map(toEntry);
    } catch (error) {
      throw storeError(error, `listing the children of ${parentId}`);
    }
  }

  async delete(agentId: string): Promise<void> {
    try {
      await this.#db.deleteFrom('agentrix_agents').where('agent_id', '=', agentId).execute();
    } catch (error) {
      throw storeError(error, `deleting agent ${agentId}`);
    }
  }

  #select() {
    return this.#db.selectFrom('agentrix_agents').select(['spec', 'state', 'last_error', 'created_at', 'updated_at']);
  }
}

function toEntry(row: AgentRow): AgentRegistryEntry {
  const entry: AgentRegistryEntry = {
    spec: row.spec,
    state: row.state,
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
  const lastError = jsonColumn<SerializedError>(row.last_error);
  if (lastError !== undefined) entry.lastError = lastError;
  return entry;
}
