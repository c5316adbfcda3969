import type { AgentRegistry, AgentRegistryEntry, AgentState, Clock, SerializedError } from '@agentrix/core';
import { systemClock } from '@agentrix/core';
import { sql } from 'kysely';
import type { Database } from './database.js';
import { invalidArgument, storeError } from './errors.js';
import { jsonb, toNumber } from './json.js';

export interface SqlAgentRegistryOptions {
  /** A database migrated with `storeMigrations`. Not closed by the registry. */
  database: Database;
  /** `updatedAt` of state changes. Default `systemClock`. */
  clock?: Clock;
}

interface AgentRow {
  spec: AgentRegistryEntry['spec'];
  state: AgentState;
  last_error: SerializedError | null;
  created_at: unknown;
  updated_at: unknown;
}

/**
 * Agent specs and states in `agentrix_agents`, so a restarted process can bring every agent
 * back (`AgentManager.restore()`). `list()` returns agents in the order they were first saved,
 * so parents come before the children they created.
 */
export class SqlAgentRegistry implements AgentRegistry {
  readonly #database: Database;
  readonly #clock: Clock;

  constructor(options: SqlAgentRegistryOptions) {
    if (!options?.database) throw invalidArgument('SqlAgentRegistry needs { database }');
    this.#database = options.database;
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
      await this.#database.kysely
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
      await this.#database.kysely
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
      return row === undefined ? undefined : toEntry(row as AgentRow);
    } catch (error) {
      throw storeError(error, `loading agent ${agentId}`);
    }
  }

  async list(): Promise<AgentRegistryEntry[]> {
    try {
      const rows = await this.#select().orderBy('seq').execute();
      return rows.map((row) => toEntry(row as AgentRow));
    } catch (error) {
      throw storeError(error, 'listing agents');
    }
  }

  /** The children of `parentId` (not grandchildren), oldest first. */
  async children(parentId: string): Promise<AgentRegistryEntry[]> {
    try {
      const rows = await this.#select().where('parent_id', '=', parentId).orderBy('seq').execute();
      return rows.map((row) => toEntry(row as AgentRow));
    } catch (error) {
      throw storeError(error, `listing the children of ${parentId}`);
    }
  }

  async delete(agentId: string): Promise<void> {
    try {
      await this.#database.kysely.deleteFrom('agentrix_agents').where('agent_id', '=', agentId).execute();
    } catch (error) {
      throw storeError(error, `deleting agent ${agentId}`);
    }
  }

  #select() {
    return this.#database.kysely
      .selectFrom('agentrix_agents')
      .select(['spec', 'state', 'last_error', 'created_at', 'updated_at', sql<string>`seq`.as('seq')]);
  }
}

function toEntry(row: AgentRow): AgentRegistryEntry {
  const entry: AgentRegistryEntry = {
    spec: row.spec,
    state: row.state,
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
  if (row.last_error !== null && row.last_error !== undefined) entry.lastError = row.last_error;
  return entry;
}
