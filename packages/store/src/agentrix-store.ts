import type { AgentrixEvents, Clock, IdGenerator, Logger } from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';
import type { Database } from './database.js';
import type { DatabaseOptions } from './database-options.js';
import type { Migration } from './migrations.js';
import { createDatabase } from './open-database.js';
import { SqlAgentRegistry } from './sql-agent-registry.js';
import { SqlBudgetStore } from './sql-budget-store.js';
import { SqlContextStore } from './sql-context-store.js';
import { SqlIdempotencyStore } from './sql-idempotency-store.js';
import { SqlLedger } from './sql-ledger.js';
import { SqlMessageBus } from './sql-message-bus.js';
import { storeMigrations } from './store-migrations.js';

export interface AgentrixStoreOptions extends Partial<DatabaseOptions> {
  /** Use this open database instead of opening `url` (it is then not closed by `close()`). */
  database?: Database;
  /** More migrations to apply after the store's own (other packages' tables). */
  migrations?: readonly Migration[];
  clock?: Clock;
  generateId?: IdGenerator;
  events?: AgentrixEvents;
  logger?: Logger;
  /** Bus options. */
  consumer?: string;
  leaseMs?: number;
  maxDeliveries?: number;
  maxMessageBytes?: number;
}

/** Everything a durable runtime needs, on one database. */
export interface AgentrixStore extends AsyncDisposable {
  readonly database: Database;
  readonly contexts: SqlContextStore;
  readonly registry: SqlAgentRegistry;
  readonly idempotency: SqlIdempotencyStore;
  readonly bus: SqlMessageBus;
  /** The gateway's budget counters: `createGateway({ budgetStore: store.budgets })`. */
  readonly budgets: SqlBudgetStore;
  /** The gateway's usage ledger: `createGateway({ ledger: store.ledger })`. */
  readonly ledger: SqlLedger;
  /** Closes the bus, budget store and ledger, then the database if this store opened it. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens (or takes) a database, applies `storeMigrations` (and `migrations`), and builds the
 * context store, agent registry, idempotency store, message bus, budget store and ledger on it.
 * `createAgentrix({ store: './data/agentrix', gateway: { provider, budgets } })` opens one and
 * wires all of it; open it yourself to share it (`createAgentrix` then leaves it open):
 *
 * ```ts
 * await using store = await createAgentrixStore({ url: './data/agentrix' });
 * await using agentrix = await createAgentrix({ store, gateway: { provider, budgets } });
 * await agentrix.restore();
 * ```
 */
export async function createAgentrixStore(options: AgentrixStoreOptions): Promise<AgentrixStore> {
  const { database: given, migrations = [], clock, generateId, events, logger, ...rest } = options ?? {};
  if (given === undefined && rest.url === undefined) {
    throw invalidArgument('createAgentrixStore needs { url } (memory://, a directory, postgres://...) or { database }');
  }
  const all = [...storeMigrations, ...migrations];
  const database =
    given ??
    (await createDatabase({
      migrations: all,
      url: rest.url as string,
      ...pick(rest, [
        'schema',
        'vector',
        'maxConnections',
        'connectTimeoutMs',
        'relaxedDurability',
        'templateDirectory',
      ]),
      ...(logger !== undefined ? { logger } : {}),
    }));
  try {
    // A database this store opened got them on open (a fresh PGlite from its migrated template);
    // one passed in is migrated here.
    if (given !== undefined) await database.migrate(all, clock === undefined ? {} : { clock });
    const bus = new SqlMessageBus({
      database,
      ...(clock !== undefined ? { clock } : {}),
      ...(generateId !== undefined ? { generateId } : {}),
      ...(events !== undefined ? { events } : {}),
      ...(logger !== undefined ? { logger } : {}),
      ...pick(rest, ['consumer', 'leaseMs', 'maxDeliveries', 'maxMessageBytes']),
    });
    const budgets = new SqlBudgetStore({ database, ...(clock !== undefined ? { clock } : {}) });
    const ledger = new SqlLedger({ database });
    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        try {
          await bus.close();
        } finally {
          await Promise.all([budgets.close(), ledger.close()]);
          if (given === undefined) await database.close();
        }
      })();
      return closing;
    };
    return {
      database,
      contexts: new SqlContextStore({ database }),
      registry: new SqlAgentRegistry({ database, ...(clock !== undefined ? { clock } : {}) }),
      idempotency: new SqlIdempotencyStore({
        database,
        ...(clock !== undefined ? { clock } : {}),
        ...(logger !== undefined ? { logger } : {}),
      }),
      bus,
      budgets,
      ledger,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    if (given === undefined) await database.close().catch(() => {});
    throw error;
  }
}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}
