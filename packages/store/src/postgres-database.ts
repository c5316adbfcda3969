import { randomUUID } from 'node:crypto';
import { AgentrixError, backoffDelay, type Logger, serializeError, silentLogger } from '@agentrix/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { NotificationListener } from './database.js';
import type { VectorMode } from './database-options.js';
import { storeError } from './errors.js';
import { isStatementDropped, PreparedStatements } from './prepared-statements.js';
import { SqlDatabase } from './sql-database.js';

/** The subset of `pg` we use (pg stays an optional peer dependency). */
interface PgClientLike {
  connect(): Promise<unknown>;
  query(text: string, values?: unknown[]): Promise<unknown>;
  query(config: { name: string; text: string; values?: unknown[] }): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown;
  removeAllListeners(): unknown;
  /** pg's connection: its socket is destroyed when a close cannot end the client politely. */
  connection?: { stream?: { destroy(): void } };
}
interface PgPoolLike {
  on(event: 'error', listener: (error: Error) => void): unknown;
  end(): Promise<void>;
}
interface PgModule {
  Pool: new (config: Record<string, unknown>) => PgPoolLike;
  Client: new (config: Record<string, unknown>) => PgClientLike;
}

export interface PostgresDatabaseOptions {
  connectionString: string;
  /** Redacted URL for messages. */
  url: string;
  schema?: string;
  vector: VectorMode;
  maxConnections: number;
  connectTimeoutMs: number;
  logger?: Logger;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;
/**
 * How long `close()` lets statements in flight finish before it drops their connections. A
 * server that answers ends them in milliseconds; one that has not after this does not answer
 * (stalled, or its network gone), and `pool.end()` would wait for it forever.
 */
const CLOSE_GRACE_MS = 2_000;

/** Waits for `work` (its failure ignored) for at most `timeoutMs`. */
async function settledWithin(work: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    work.catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * A PostgreSQL server through a `pg` pool. Notifications use LISTEN/NOTIFY on one dedicated
 * connection (opened on the first `listen`, re-opened with backoff when it drops), so blocked
 * readers in other processes wake up too.
 */
export class PostgresDatabase extends SqlDatabase {
  readonly dialect = 'postgres' as const;
  readonly crossProcessNotify = true;
  readonly #pg: PgModule;
  readonly #clientConfig: Record<string, unknown>;
  readonly #logger: Logger;
  /** Tags this instance's own notifications, which its listeners already got locally. */
  readonly #token = randomUUID().slice(0, 8);
  #listener: PgClientLike | undefined;
  #listenerReady: Promise<PgClientLike> | undefined;
  #reconnectAttempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** The pool's open connections, to drop those a close cannot end (see `CLOSE_GRACE_MS`). */
  readonly #connections: Set<PgClientLike>;

  private constructor(
    options: PostgresDatabaseOptions,
    pg: PgModule,
    clientConfig: Record<string, unknown>,
    kysely: Kysely<unknown>,
    hasVector: boolean,
    connections: Set<PgClientLike>,
    statements: PreparedStatements,
  ) {
    super(options.url, kysely, hasVector, statements);
    this.#pg = pg;
    this.#clientConfig = clientConfig;
    this.#logger = options.logger ?? silentLogger;
    this.#connections = connections;
  }

  static async open(options: PostgresDatabaseOptions): Promise<PostgresDatabase> {
    let pg: PgModule;
    try {
      const module = (await import('pg')) as unknown as { default?: PgModule } & PgModule;
      pg = module.default ?? module;
    } catch (error) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `Cannot open "${options.url}": the "pg" package is not installed. Add it to your app (npm install pg) to use a PostgreSQL server.`,
        { cause: error },
      );
    }
    const clientConfig: Record<string, unknown> = {
      connectionString: options.connectionString,
      connectionTimeoutMillis: options.connectTimeoutMs,
      application_name: 'agentrix',
    };
    if (options.schema !== undefined) clientConfig.options = `-c search_path="${options.schema}",public`;
    // Every client of the pool, those still connecting included, so a close can drop them.
    const connections = new Set<PgClientLike>();
    const statements = new PreparedStatements();
    const Client = class extends (pg.Client as new (config: Record<string, unknown>) => PgClientLike) {
      constructor(config: Record<string, unknown>) {
        super(config);
        connections.add(this);
        // A connection lost while the client is checked out (a query in flight, a transaction)
        // is emitted as 'error' on the client, which the pool does not listen to then:
        // unhandled, it ended the process (tests/integration/store-outage-health.int.test.ts,
        // the 'cut' case). The query still fails with it, and the pool discards the client.
        this.on('error', () => {});
        this.on('end', () => connections.delete(this));
      }

      /** Bumped when the server dropped this connection's statements (see `query`). */
      #generation = 0;

      // kysely's statements arrive as (text, values); a text registered by executePrepared goes
      // as pg's named query, which pg parses once per connection.
      override async query(...args: [text: string, values?: unknown[]] | [config: { name: string; text: string }]) {
        const [text, values] = args;
        const name = typeof text === 'string' ? statements.nameOf(text) : undefined;
        if (name === undefined) return (super.query as (...forwarded: unknown[]) => Promise<unknown>)(...args);
        const named = () =>
          super.query({
            name: this.#generation === 0 ? name : `${name}_${this.#generation}`,
            text: text as string,
            values: values as unknown[],
          });
        try {
          return await named();
        } catch (error) {
          // DISCARD ALL or DEALLOCATE (a pooler's reset, a host's own statement) dropped the
          // connection's statements, which pg still counts as parsed: prepared again, under new names.
          if (!isStatementDropped(error)) throw error;
          this.#generation++;
          return named();
        }
      }
    };
    const pool = new pg.Pool({ ...clientConfig, max: options.maxConnections, Client });
    // An idle client losing its connection must not crash the process; the next query reports it.
    pool.on('error', (error) =>
      options.logger?.warn(
        { url: options.url, error: serializeError(error) },
        'postgres pool: an idle connection failed',
      ),
    );
    const kysely = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: pool as never }) });
    let hasVector = false;
    try {
      if (options.schema !== undefined)
        await sql`create schema if not exists ${sql.id(options.schema)}`.execute(kysely);
      if (options.vector !== 'off') hasVector = await enableVector(kysely);
    } catch (error) {
      await kysely.destroy().catch(() => {});
      throw storeError(error, `connecting to ${options.url}`);
    }
    if (options.vector === 'required' && !hasVector) {
      await kysely.destroy().catch(() => {});
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `The pgvector extension is not available on "${options.url}" (vector: 'required'). Install it on the server (CREATE EXTENSION vector) or use vector: 'auto' for the brute-force fallback.`,
      );
    }
    return new PostgresDatabase(options, pg, clientConfig, kysely, hasVector, connections, statements);
  }

  async listen(channel: string, listener: NotificationListener): Promise<() => Promise<void>> {
    this.assertOpen('listen');
    checkChannel(channel);
    const first = this.notifier.add(channel, listener);
    if (first) {
      try {
        const client = await this.#connectListener();
        await client.query(`listen "${channel}"`);
      } catch (error) {
        this.notifier.remove(channel, listener);
        throw storeError(error, `listen ${channel}`);
      }
    }
    return async () => {
      if (!this.notifier.remove(channel, listener) || this.closed) return;
      // Best effort, and bounded: on a server that stopped answering it would wait forever.
      const client = this.#listener;
      if (client) await settledWithin(client.query(`unlisten "${channel}"`), CLOSE_GRACE_MS);
    };
  }

  async notify(channel: string, payload: string): Promise<void> {
    this.assertOpen('notify');
    checkChannel(channel);
    this.notifier.emit(channel, payload);
    try {
      await sql`select pg_notify(${channel}, ${`${this.#token}:${payload}`})`.execute(this.kysely);
    } catch (error) {
      throw storeError(error, `notify ${channel}`);
    }
  }

  remoteNotification(channel: string, payload: string): readonly [string, string] {
    return [channel, `${this.#token}:${payload}`];
  }

  protected async shutdown(): Promise<void> {
    const failures: unknown[] = [];
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.notifier.clear();
    const listener = this.#listener;
    this.#listener = undefined;
    const drop = setTimeout(() => {
      listener?.connection?.stream?.destroy();
      for (const client of this.#connections) client.connection?.stream?.destroy();
    }, CLOSE_GRACE_MS);
    if (listener) {
      listener.removeAllListeners();
      listener.on('error', () => {});
      await listener.end().catch((error: unknown) => failures.push(error));
    }
    await this.kysely.destroy().catch((error: unknown) => failures.push(error));
    clearTimeout(drop);
    if (failures.length > 0) throw storeError(failures[0], 'closing the pool');
  }

  #connectListener(): Promise<PgClientLike> {
    this.#listenerReady ??= (async () => {
      const client = new this.#pg.Client(this.#clientConfig);
      client.on('notification', (message) => this.#onNotification(message.channel, message.payload ?? ''));
      client.on('error', (error) => this.#onListenerLost(client, error));
      client.on('end', () => this.#onListenerLost(client));
      try {
        await client.connect();
      } catch (error) {
        this.#listenerReady = undefined;
        client.removeAllListeners();
        throw error;
      }
      this.#listener = client;
      this.#reconnectAttempt = 0;
      return client;
    })();
    return this.#listenerReady;
  }

  #onNotification(channel: string, wirePayload: string): void {
    const colon = wirePayload.indexOf(':');
    if (colon >= 0 && wirePayload.slice(0, colon) === this.#token) return; // already delivered locally
    this.notifier.emit(channel, colon >= 0 ? wirePayload.slice(colon + 1) : wirePayload);
  }

  #onListenerLost(client: PgClientLike, error?: Error): void {
    if (this.closed || this.#listener !== client) return;
    this.#listener = undefined;
    this.#listenerReady = undefined;
    client.removeAllListeners();
    client.on('error', () => {});
    void client.end().catch(() => {});
    this.#logger.warn(
      { url: this.url, ...(error === undefined ? {} : { error: serializeError(error) }) },
      'postgres LISTEN connection lost; reconnecting',
    );
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.closed) return;
    const delay = backoffDelay(++this.#reconnectAttempt, { baseDelayMs: 250, maxDelayMs: 10_000 });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void (async () => {
        try {
          const client = await this.#connectListener();
          for (const channel of this.notifier.channels()) await client.query(`listen "${channel}"`);
          // Notifications may have been missed while disconnected: tell everyone to re-check.
          this.notifier.emitAll('*');
        } catch (error) {
          const failure = storeError(error, 'reconnecting the LISTEN connection');
          this.#logger.warn(
            { url: this.url, attempt: this.#reconnectAttempt, code: failure.code, error: serializeError(failure) },
            'postgres LISTEN reconnect failed',
          );
          this.#scheduleReconnect();
        }
      })();
    }, delay);
    (this.#reconnectTimer as { unref?: () => void }).unref?.();
  }
}

function checkChannel(channel: string): void {
  if (!CHANNEL.test(channel)) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `Invalid notification channel ${JSON.stringify(channel)}: use lowercase letters, digits and "_" (at most 63)`,
    );
  }
}

/** Creates the pgvector extension when the server has it; false when it is missing or not allowed. */
async function enableVector(kysely: Kysely<unknown>): Promise<boolean> {
  const installed = await sql<{
    ok: boolean;
  }>`select exists(select 1 from pg_extension where extname = 'vector') as ok`.execute(kysely);
  if (installed.rows[0]?.ok) return true;
  const available = await sql<{
    ok: boolean;
  }>`select exists(select 1 from pg_available_extensions where name = 'vector') as ok`.execute(kysely);
  if (!available.rows[0]?.ok) return false;
  try {
    await sql`create extension if not exists vector`.execute(kysely);
    return true;
  } catch {
    return false;
  }
}
