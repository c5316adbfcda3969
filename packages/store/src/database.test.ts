import util from 'node:util';
import { AgentrixError } from '@agentrix/core';
import { type Kysely, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { databaseContract } from './database.contract.js';
import type { Database } from './database.js';
import { parseDatabaseUrl, redactUrl } from './database-url.js';
import { createDatabase, openDatabase } from './open-database.js';
import type { PgliteDatabase } from './pglite-database.js';
import { capturingLogger } from './testing/capturing-logger.js';
import { useTestPglite } from './testing/suite-databases.js';

const pglite = useTestPglite();

databaseContract('PGlite (on disk)', { database: () => pglite().database, expectVector: true });

function errorOf(action: () => unknown): AgentrixError {
  try {
    action();
  } catch (error) {
    if (AgentrixError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected an AgentrixError');
}

describe('database URLs', () => {
  it('accepts memory://, directories, file:// and postgres URLs', () => {
    expect(parseDatabaseUrl('memory://')).toEqual({ kind: 'pglite-memory' });
    expect(parseDatabaseUrl('memory:')).toEqual({ kind: 'pglite-memory' });
    expect(parseDatabaseUrl('/var/lib/agentrix')).toEqual({ kind: 'pglite-directory', directory: '/var/lib/agentrix' });
    expect(parseDatabaseUrl('./data')).toMatchObject({
      kind: 'pglite-directory',
      directory: expect.stringMatching(/\/data$/),
    });
    expect(parseDatabaseUrl('file:///tmp/agentrix')).toEqual({ kind: 'pglite-directory', directory: '/tmp/agentrix' });
    expect(parseDatabaseUrl('postgres://u:p@localhost:5432/db')).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://u:p@localhost:5432/db',
    });
    expect(parseDatabaseUrl('postgresql://localhost/db').kind).toBe('postgres');
  });

  it('rejects other schemes with INVALID_ARGUMENT naming the accepted ones, credentials redacted', () => {
    const error = errorOf(() => parseDatabaseUrl('mysql://root:hunter2@db.example.com/app'));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.kind).toBe('user');
    for (const scheme of ['memory://', 'file://', 'postgres://', 'postgresql://'])
      expect(error.message).toContain(scheme);
    expect(error.message).toContain('mysql://root:***@db.example.com/app');
    expect(error.message).not.toContain('hunter2');
    expect(errorOf(() => parseDatabaseUrl('')).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => parseDatabaseUrl(42)).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => parseDatabaseUrl('memory://named')).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => parseDatabaseUrl('file://relative/path')).code).toBe('INVALID_ARGUMENT');
  });

  it('redacts passwords and bare secrets', () => {
    expect(redactUrl('postgres://user:secret@host/db')).toBe('postgres://user:***@host/db');
    expect(redactUrl('redis://token@host')).toBe('redis://***@host');
    expect(redactUrl('postgres://host/db')).toBe('postgres://host/db');
  });

  it('redacts a password holding @ / ? # % whole, and ?password=, as pg reads them', () => {
    expect(redactUrl('postgres://app:Se@cret@host/db')).toBe('postgres://app:***@host/db');
    expect(redactUrl('postgres://app:pa/ss@host/db')).toBe('postgres://app:***@host/db');
    expect(redactUrl('postgres://app:pa?ss@host/db')).toBe('postgres://app:***@host/db');
    expect(redactUrl('postgres://app:pa#ss@host/db')).toBe('postgres://app:***@host/db');
    expect(redactUrl('postgres://app:50%off@host/db')).toBe('postgres://app:***@host/db');
    expect(redactUrl('postgres://app@host/db?password=hunter2&sslmode=require')).toBe(
      'postgres://***@host/db?password=***&sslmode=require',
    );
  });

  // Each password is made of two distinctive halves around the special character: neither half
  // may show anywhere (the old redaction stopped at the first "@" and showed "***@<second half>").
  const SECRET_PASSWORDS = ['Qx7kw@Zr4jm', 'Qx7kw/Zr4jm', 'Qx7kw?Zr4jm', 'Qx7kw#Zr4jm', 'Qx7kw%Zr4jm', 'Qx7kw%40Zr4jm'];
  const secretUrls = [
    ...SECRET_PASSWORDS.map((password) => `postgres://app:${password}@127.0.0.1:1/db`),
    ...SECRET_PASSWORDS.map((password) => `postgres://app:${encodeURIComponent(password)}@127.0.0.1:1/db`),
    `postgres://app@127.0.0.1:1/db?password=${encodeURIComponent('Qx7kw@Zr4jm')}`,
    'postgres://app@127.0.0.1:1/db?sslmode=disable&password=Qx7kw#Zr4jm',
  ];

  it.each(secretUrls)('never shows the password of %s in a message, cause chain or log line', async (url) => {
    const logger = capturingLogger();
    const error = await openDatabase(url, { connectTimeoutMs: 2000, logger }).then(
      (database) => database.close().then(() => expect.fail('expected the open to fail')),
      (caught: unknown) => caught as AgentrixError,
    );
    expect(AgentrixError.isInstance(error)).toBe(true);
    // A password pg cannot split from the host is a bad URL; any other reaches pg and finds no server.
    expect(['INVALID_ARGUMENT', 'STORE_UNAVAILABLE']).toContain(error.code);
    const seen = [
      error.message,
      util.inspect(error, { depth: 10 }),
      JSON.stringify(error),
      String(error.stack),
      JSON.stringify(logger.lines),
    ].join('\n');
    expect(seen).not.toMatch(/Qx7kw|Zr4jm/);
    if (error.code === 'INVALID_ARGUMENT') expect(error.message).toMatch(/Percent-encode/);
    expect(() => parseDatabaseUrl(url)).not.toThrow(/Qx7kw|Zr4jm/);
  });

  it('rejects a bad URL or options from createDatabase without opening anything', async () => {
    await expect(openDatabase('sqlite://x.db')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(createDatabase({ url: 'memory://', schema: 'bad schema' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('schema'),
    });
    await expect(createDatabase({ url: 'memory://', vector: 'sometimes' as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('reports an unreachable Postgres server as STORE_UNAVAILABLE with the password redacted', async () => {
    const error = await openDatabase('postgres://agentrix:topsecret@127.0.0.1:1/none', { connectTimeoutMs: 2000 }).then(
      () => undefined,
      (caught: unknown) => caught as AgentrixError,
    );
    expect(error?.code).toBe('STORE_UNAVAILABLE');
    expect(error?.isRetryable).toBe(true);
    expect(error?.message).not.toContain('topsecret');
  });
});

describe('PGlite lifecycle', () => {
  it('keeps data in a directory across close and reopen', async () => {
    const database = pglite().database;
    await sql`create table kept (id int primary key, doc jsonb)`.execute(database.kysely);
    await sql`insert into kept values (1, '{"kept":true}')`.execute(database.kysely);
    await database.close();
    const reopened: Database = await openDatabase(`file://${pglite().directory}`);
    try {
      const kept = reopened.kysely as Kysely<{ kept: { id: number; doc: unknown } }>;
      const row = await kept.selectFrom('kept').select('doc').executeTakeFirstOrThrow();
      expect(row.doc).toEqual({ kept: true });
    } finally {
      await reopened.close();
      // The contract suite may still run after this block: give it a database again.
      pglite().database = await openDatabase(pglite().directory);
    }
  });

  it('snapshots a live data directory with dumpDataDir', async () => {
    const database = pglite().database as PgliteDatabase;
    const blob = await database.dumpDataDir();
    expect(blob.size).toBeGreaterThan(100_000);
    // The database stays usable.
    expect((await sql<{ one: number }>`select 1 as one`.execute(database.kysely)).rows).toEqual([{ one: 1 }]);
  });

  it('opens memory://, closes idempotently and through Symbol.asyncDispose, then rejects with CLOSED', async () => {
    let closed: Database | undefined;
    {
      await using database = await openDatabase('memory://', { vector: 'off' });
      closed = database;
      expect(database.dialect).toBe('pglite');
      expect(database.hasVector).toBe(false);
      const result = await sql<{ one: number }>`select 1 as one`.execute(database.kysely);
      expect(result.rows).toEqual([{ one: 1 }]);
    }
    expect(closed.closed).toBe(true);
    const first = closed.close();
    expect(closed.close()).toBe(first);
    await first;
    expect(() => closed.migrate([])).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  }, 30_000);
});
