// Postgres refusing credentials or missing the database: typed, not retried, never showing the password.
//
// Needs a role that must log in with a password. scripts/with-services.mjs provides one
// (DATABASE_PASSWORD_URL, scram-sha-256, a password holding `@ / ? # % :`). When DATABASE_URL was
// given from outside instead, this file creates a throwaway role with a password through it and
// uses it if the server really checks passwords for it; on a server that trusts every connection
// (as a bare initdb does) the password tests are skipped, saying why.
import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import util from 'node:util';
import { AgentrixError } from '@agentrix/core';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from './open-database.js';
import { capturingLogger } from './testing/capturing-logger.js';

const url = process.env.DATABASE_URL;

/** Everything a caller can see of an error: message, chain (inspected deep), JSON, stack. */
function visible(error: unknown): string {
  return [String(error), util.inspect(error, { depth: 10 }), JSON.stringify(error)].join('\n');
}

async function openError(target: string, options: Parameters<typeof openDatabase>[1] = {}): Promise<AgentrixError> {
  return openDatabase(target, { connectTimeoutMs: 5000, ...options }).then(
    async (database) => {
      await database.close();
      throw new Error(`expected opening ${target} to fail`);
    },
    (error: unknown) => {
      if (!AgentrixError.isInstance(error)) throw error;
      return error;
    },
  );
}

/** A TCP relay to the server that counts connections: proves that a refused open is not retried. */
async function countingRelay(
  target: URL,
): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    connections++;
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** `target` with its host and port replaced by 127.0.0.1:`port` (through the relay). */
function via(target: string, port: number): string {
  const parsed = new URL(target);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  return parsed.toString();
}

describe.skipIf(!url)('Postgres credentials and database names', () => {
  /** A URL of a role that must give its password, or why there is none. */
  let passwordUrl: string | undefined;
  let skipReason = '';
  let dropRole: (() => Promise<void>) | undefined;
  let relay: Awaited<ReturnType<typeof countingRelay>>;

  beforeAll(async () => {
    relay = await countingRelay(new URL(url!));
    if (process.env.DATABASE_PASSWORD_URL) {
      passwordUrl = process.env.DATABASE_PASSWORD_URL;
      return;
    }
    const admin = await openDatabase(url!);
    const role = `agentrix_pw_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const password = `${randomBytes(9).toString('base64url')}@/?#%:`;
    try {
      await sql.raw(`create role ${role} login password '${password}'`).execute(admin.kysely);
    } catch (error) {
      await admin.close();
      skipReason = `cannot create a role with a password on DATABASE_URL (${(error as Error).message})`;
      return;
    }
    dropRole = async () => {
      await sql.raw(`drop role if exists ${role}`).execute(admin.kysely);
      await admin.close();
    };
    const candidate = new URL(url!);
    candidate.username = role;
    candidate.password = encodeURIComponent(password);
    const wrong = new URL(candidate);
    wrong.password = 'not-the-password';
    const probe = await openDatabase(wrong.toString(), { connectTimeoutMs: 5000 }).then(
      async (database) => {
        await database.close();
        return 'accepted';
      },
      (error: unknown) => (error as AgentrixError).code,
    );
    if (probe === 'AUTH_FAILED') passwordUrl = candidate.toString();
    else {
      skipReason =
        `the server behind DATABASE_URL lets a wrong password in (${probe}): it trusts every connection. ` +
        'Run the tests through scripts/with-services.mjs, which provisions a password role (DATABASE_PASSWORD_URL).';
    }
  });

  afterAll(async () => {
    await relay?.close();
    await dropRole?.();
  });

  it('a wrong password holding @ / ? # % is AUTH_FAILED, not retried, and never shown', async (context) => {
    if (passwordUrl === undefined) return context.skip(skipReason);
    const wrongPassword = 'Wq7x@Yk2/Vz9?Tj4#Rm6%Pn3';
    const target = new URL(via(passwordUrl, relay.port));
    target.password = encodeURIComponent(wrongPassword);
    const before = relay.connections();
    const logger = capturingLogger();
    const error = await openError(target.toString(), { logger });
    expect(error).toMatchObject({ code: 'AUTH_FAILED', kind: 'system', isRetryable: false });
    expect(error.message).toMatch(/password authentication failed/);
    expect(error.message).toMatch(/Check the user and password/);
    expect(error.message).toContain(`postgres://${target.username}:***@127.0.0.1:${relay.port}/`);
    // One connection: opening did not try again.
    expect(relay.connections() - before).toBe(1);
    const seen = `${visible(error)}\n${JSON.stringify(logger.lines)}`;
    for (const part of ['Wq7x', 'Yk2', 'Vz9', 'Tj4', 'Rm6', 'Pn3']) expect(seen).not.toContain(part);
  });

  it('a missing password is AUTH_FAILED saying the URL has none', async (context) => {
    if (passwordUrl === undefined) return context.skip(skipReason);
    const target = new URL(passwordUrl);
    target.password = '';
    const error = await openError(target.toString());
    expect(error).toMatchObject({ code: 'AUTH_FAILED', isRetryable: false });
    expect(error.message).toMatch(/asks for a password and the URL has none/);
  });

  it('the right password opens; database.url, errors and logs never show it, nor a ?password= one', async (context) => {
    if (passwordUrl === undefined) return context.skip(skipReason);
    const parsed = new URL(passwordUrl);
    const password = decodeURIComponent(parsed.password);
    const inQuery = new URL(passwordUrl);
    inQuery.password = '';
    inQuery.searchParams.set('password', password);
    for (const target of [passwordUrl, inQuery.toString()]) {
      const logger = capturingLogger();
      const database = await openDatabase(target, { logger });
      const errors: unknown[] = [];
      try {
        expect(database.url).toMatch(/^postgres:\/\/(\w+:)?\*\*\*@/);
        // A statement failing on the server, wrapped by the store with pg's error as its cause.
        const failing = {
          name: `failing_${randomUUID()}`,
          up: async (db: Kysely<unknown>) => {
            await sql`select * from no_such_table`.execute(db);
          },
        };
        await database.migrate([failing]).catch((error: unknown) => errors.push(error));
      } finally {
        await database.close();
      }
      await Promise.resolve()
        .then(() => database.migrate([]))
        .catch((error: unknown) => errors.push(error)); // CLOSED, naming database.url
      expect(errors.map((error) => (error as AgentrixError).code)).toEqual(['INTERNAL', 'CLOSED']);
      const seen = [database.url, ...errors.map(visible), JSON.stringify(logger.lines)].join('\n');
      for (const shown of [password, encodeURIComponent(password)]) expect(seen).not.toContain(shown);
    }
  });

  it('a missing database is DATABASE_NOT_FOUND, not retried, naming what to do', async () => {
    const target = new URL(via(url!, relay.port));
    const name = `agentrix_missing_${randomUUID().replaceAll('-', '').slice(0, 8)}`;
    target.pathname = `/${name}`;
    const before = relay.connections();
    const error = await openError(target.toString());
    expect(error).toMatchObject({ code: 'DATABASE_NOT_FOUND', kind: 'system', isRetryable: false });
    expect(error.message).toContain(`database "${name}" does not exist`);
    expect(error.message).toMatch(/createdb/);
    expect(relay.connections() - before).toBe(1);
  });
});
