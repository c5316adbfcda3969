import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { AgentrixError } from '@agentrix/core';
import type { Extension, PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import type { NotificationListener } from './database.js';
import type { VectorMode } from './database-options.js';
import { storeError } from './errors.js';
import type { Migration } from './migrations.js';
import { PglitePreparedClient } from './pglite-prepared.js';
import {
  dataDirectory,
  discardPgliteTemplate,
  keepMigratedTemplate,
  migratedTemplate,
  migrationsKey,
  type PgliteTemplateOptions,
  pgliteTemplate,
} from './pglite-template.js';
import { PreparedStatements } from './prepared-statements.js';
import { SqlDatabase } from './sql-database.js';

export interface PgliteDatabaseOptions {
  /** Data directory; `undefined` keeps everything in memory. */
  directory?: string;
  /** Redacted URL for messages. */
  url: string;
  vector: VectorMode;
  /** Tables go into this schema (created when missing), then `public`. */
  schema?: string;
  /** Skip the flush to disk after each query (faster, may lose the last writes on a crash). Default false. */
  relaxedDurability: boolean;
  /**
   * Where pre-initialised data directories are kept between processes (see pglite-template.ts);
   * `false`: run initdb for every fresh database. Default: a directory under the OS temp dir.
   */
  templateDirectory: string | false;
  /**
   * Applied on open. A fresh database starts from a template that has them already when one was
   * kept (see `migratedTemplate`); otherwise they run, and the result is kept as that template.
   */
  migrations?: readonly Migration[];
}

/**
 * PGlite (Postgres compiled to WebAssembly) inside this process: `memory://` or a data
 * directory. One connection, so statements run one at a time; kysely queues the rest.
 * Notifications stay in this process (nothing else can open the same directory).
 */
export class PgliteDatabase extends SqlDatabase {
  readonly dialect = 'pglite' as const;
  readonly crossProcessNotify = false;
  /** The data directory, or `undefined` in memory. */
  readonly directory: string | undefined;
  readonly #pglite: PGlite;

  private constructor(
    url: string,
    directory: string | undefined,
    kysely: Kysely<unknown>,
    hasVector: boolean,
    pglite: PGlite,
    statements: PreparedStatements,
  ) {
    super(url, kysely, hasVector, statements);
    this.#pglite = pglite;
    this.directory = directory;
  }

  static async open(options: PgliteDatabaseOptions): Promise<PgliteDatabase> {
    const [pgliteModule, { PGliteDialect }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('kysely-pglite-dialect'),
    ]);
    const { PGlite } = pgliteModule;
    const wantVector = options.vector !== 'off';
    const extensions: Record<string, Extension> = {};
    if (wantVector) extensions.vector = (await import('@electric-sql/pglite/vector')).vector;
    let pglite: InstanceType<typeof PGlite> | undefined;
    /** Set when this fresh database runs its migrations itself: what to keep them as afterwards. */
    let keep: { template: PgliteTemplateOptions; key: string } | undefined;
    try {
      const fresh = options.directory === undefined || !existsSync(path.join(options.directory, 'PG_VERSION'));
      if (options.directory !== undefined) await mkdir(options.directory, { recursive: true });
      const start = async (loadDataDir: Blob | undefined) => {
        const instance = new PGlite(options.directory ?? 'memory://', {
          extensions,
          relaxedDurability: options.relaxedDurability,
          ...(loadDataDir === undefined ? {} : { loadDataDir }),
        });
        try {
          await instance.waitReady;
          return instance;
        } catch (error) {
          await instance.close().catch(() => {});
          throw error;
        }
      };
      if (fresh && options.templateDirectory !== false) {
        const template = {
          PGlite,
          vector: wantVector,
          extensions,
          directory: options.templateDirectory,
        };
        const key = options.migrations?.length ? migrationsKey(options.schema, options.migrations) : undefined;
        let migrated: Blob | undefined;
        const exitCode = process.exitCode;
        try {
          migrated = key === undefined ? undefined : await migratedTemplate(template, key);
          pglite = await start(migrated ?? (await pgliteTemplate(template)));
        } catch {
          // A template PGlite cannot start from (another build): made again, once. PGlite leaves
          // `process.exitCode` at 1 after such a failure; this one is handled.
          process.exitCode = exitCode;
          await discardPgliteTemplate(template, key);
          if (options.directory !== undefined) await emptyDirectory(options.directory);
          migrated = undefined;
          pglite = await start(await pgliteTemplate(template));
        }
        if (key !== undefined && migrated === undefined) keep = { template, key };
      } else {
        pglite = await start(undefined);
      }
      if (wantVector) await pglite.exec('create extension if not exists vector');
      if (options.schema !== undefined) {
        await pglite.exec(
          `create schema if not exists "${options.schema}"; set search_path to "${options.schema}", public`,
        );
      }
    } catch (error) {
      await pglite?.close().catch(() => {});
      throw new AgentrixError(
        'STORE_UNAVAILABLE',
        `Cannot open PGlite at "${options.url}": ${error instanceof Error ? error.message : String(error)}. ` +
          'Check that the directory is writable and not open in another process.',
        { cause: error, retryable: false },
      );
    }
    const statements = new PreparedStatements();
    // The dialect calls the client's `query` and `close` only.
    const client = new PglitePreparedClient(pglite, pgliteModule, statements) as unknown as PGlite;
    const kysely = new Kysely<unknown>({ dialect: new PGliteDialect(client) });
    const database = new PgliteDatabase(options.url, options.directory, kysely, wantVector, pglite, statements);
    if (options.migrations === undefined) return database;
    try {
      await database.migrate(options.migrations);
      // Nothing but the migrations has touched it yet: the next fresh database starts from here.
      if (keep !== undefined) {
        await keepMigratedTemplate(keep.template, keep.key, await dataDirectory(pglite));
      }
    } catch (error) {
      await database.close().catch(() => {});
      throw error;
    }
    return database;
  }

  async listen(channel: string, listener: NotificationListener): Promise<() => Promise<void>> {
    this.assertOpen('listen');
    this.notifier.add(channel, listener);
    return async () => {
      this.notifier.remove(channel, listener);
    };
  }

  async notify(channel: string, payload: string): Promise<void> {
    this.assertOpen('notify');
    this.notifier.emit(channel, payload);
  }

  remoteNotification(): undefined {
    return undefined;
  }

  /**
   * A consistent snapshot of the whole data directory as a tarball (`gzip` by default), taken
   * while the database stays open: the online backup. Restore it by opening
   * `new PGlite(dir, { loadDataDir: blob })` once, or by extracting it into an empty directory.
   */
  async dumpDataDir(compression: 'gzip' | 'none' = 'gzip'): Promise<Blob> {
    this.assertOpen('dumpDataDir');
    try {
      return await this.#pglite.dumpDataDir(compression === 'gzip' ? 'gzip' : 'none');
    } catch (error) {
      throw storeError(error, 'dumping the data directory');
    }
  }

  protected async shutdown(): Promise<void> {
    this.notifier.clear();
    try {
      await this.kysely.destroy();
      // kysely closes PGlite only when a query ran; an unclosed PGlite started from a template
      // keeps the process alive.
      if (!this.#pglite.closed) await this.#pglite.close();
    } catch (error) {
      throw storeError(error, 'closing PGlite');
    }
  }
}

/** Removes what a failed start left in a directory that held no database before it. */
async function emptyDirectory(directory: string): Promise<void> {
  for (const entry of await readdir(directory)) await rm(path.join(directory, entry), { recursive: true, force: true });
}
