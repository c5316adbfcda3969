import { AgentrixError, type Logger, redactUrl } from '@agentrix/core';
import type { RedisClientLike } from '@agentrix/core/implement';
import { markClientOwned } from './redis-bus-context.js';
import { isRedisAuthError } from './redis-client.js';
import { RedisStreamsBus } from './redis-streams-bus.js';
import { type CreateRedisBusOptions, resolveRedisStreamsBusOptions } from './redis-streams-bus-options.js';

const DEFAULT_URL = 'redis://127.0.0.1:6379';
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const URL_SHAPE =
  'expected redis://[user:password@]host:port[/db] (or rediss://), with a password holding @ / ? # or % percent-encoded (encodeURIComponent)';

/**
 * Creates a {@link RedisStreamsBus}. With `client`, uses it (and never closes it). Otherwise
 * connects to `url` (default `REDIS_URL`, then `redis://127.0.0.1:6379`) with ioredis (an
 * optional peer dependency: install it), and the bus closes that connection on `close()`.
 *
 * Fails, with the URL in the message and its password hidden (never in the error or its causes):
 * - `AUTH_FAILED` (not retryable) when Redis refuses the user and password (or wants one);
 * - `DATABASE_NOT_FOUND` (not retryable) when the server has no database of the URL's index;
 * - `BUS_UNAVAILABLE` (retryable) when Redis cannot be reached within `connectTimeoutMs`;
 * - `INVALID_ARGUMENT` for invalid options or a URL that does not parse.
 */
export async function createRedisBus(options: CreateRedisBusOptions = {}): Promise<RedisStreamsBus> {
  if (options.client !== undefined) return new RedisStreamsBus({ ...options, client: options.client });
  const { logger } = resolveRedisStreamsBusOptions(options); // fail on bad options before connecting
  const url = options.url ?? process.env.REDIS_URL ?? DEFAULT_URL;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw new AgentrixError('INVALID_ARGUMENT', `connectTimeoutMs must be a positive number, got ${connectTimeoutMs}`);
  }
  const redacted = redactUrl(url);
  const client = newClient(await loadIoredis(), url, redacted, connectTimeoutMs);
  await connect(client, logger, redacted, connectTimeoutMs);
  const owned = client as unknown as RedisClientLike;
  markClientOwned(owned);
  try {
    return new RedisStreamsBus({ ...options, client: owned });
  } catch (error) {
    client.disconnect();
    throw error;
  }
}

type IoredisClass = typeof import('ioredis').Redis;
type IoredisClient = InstanceType<IoredisClass>;

async function loadIoredis(): Promise<IoredisClass> {
  try {
    return (await import('ioredis')).Redis;
  } catch (error) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      'createRedisBus needs the ioredis package to connect to a URL: install it (npm install ioredis) or pass options.client',
      { cause: error },
    );
  }
}

/** A client for `url`, not connected yet; INVALID_ARGUMENT for a URL that does not parse. */
function newClient(Redis: IoredisClass, url: string, redacted: string, connectTimeoutMs: number): IoredisClient {
  let client: IoredisClient;
  try {
    client = new Redis(url, {
      lazyConnect: true,
      // No auto-pipelining: the bus batches sends, reads and acks per tick itself, and ioredis keeps
      // only one auto-pipeline in flight, which would make Node and Redis take turns.
      enableAutoPipelining: false,
      connectTimeout: connectTimeoutMs,
    });
  } catch (error) {
    // The cause is kept redacted by AgentrixError (Node's ERR_INVALID_URL carries the whole URL as `input`).
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `Invalid Redis URL ${redacted}: ${(error as Error).message}; ${URL_SHAPE}`,
      {
        cause: error,
        details: { url: redacted },
      },
    );
  }
  // ioredis reads a password holding "/" "?" or "#" (not percent-encoded) as part of the host or
  // the path, and then finds no database index there.
  const database = client.options.db;
  if (typeof database !== 'number' || !Number.isInteger(database) || database < 0) {
    client.disconnect();
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `Invalid Redis URL ${redacted}: its path must be a database index (a whole number such as /0); ${URL_SHAPE}`,
      { details: { url: redacted } },
    );
  }
  return client;
}

/** Connects within `connectTimeoutMs`, or disconnects and throws what Redis refused (or BUS_UNAVAILABLE). */
async function connect(
  client: IoredisClient,
  logger: Logger,
  redacted: string,
  connectTimeoutMs: number,
): Promise<void> {
  const refusals = watchConnection(client, logger, redacted);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      }),
    ]);
  } catch (error) {
    // Disconnecting also stops ioredis's reconnect loop, which would retry refused credentials for ever.
    client.disconnect();
    throw connectError(refusals.auth ?? error, redacted, client.options.username || 'default');
  } finally {
    clearTimeout(timer);
  }
  // A failed SELECT does not fail ioredis's connection: it would go on using database 0.
  if (refusals.database !== undefined) {
    client.disconnect();
    throw new AgentrixError(
      'DATABASE_NOT_FOUND',
      `Redis at ${redacted} has no database ${client.options.db} (${refusals.database.message}). ` +
        'A Redis server has the databases 0 to `databases - 1` of its config (16 by default): use an index below that.',
      { cause: refusals.database, details: { url: redacted, database: client.options.db } },
    );
  }
}

/** What Redis refused while the connection was made (ioredis reports these as 'error' events only). */
interface Refusals {
  auth: Error | undefined;
  database: Error | undefined;
}

/**
 * Listens to the client's 'error' events, for the life of the client: they say why a connection
 * failed (the connect call itself only says "Connection is closed."), and they are logged (Node
 * would treat unhandled 'error' events as fatal). One line per distinct error while Redis is
 * down, not one per reconnect attempt.
 */
function watchConnection(
  client: { on(event: string, listener: (...args: any[]) => void): unknown },
  logger: Logger,
  url: string,
): Refusals {
  const refusals: Refusals = { auth: undefined, database: undefined };
  let lastLogged: string | undefined;
  client.on('error', (error: Error) => {
    if (isRedisAuthError(error)) refusals.auth ??= error;
    else if (/DB index is out of range/i.test(error.message)) refusals.database ??= error;
    if (error.message === lastLogged) return;
    lastLogged = error.message;
    logger.warn({ url, error: error.message }, 'Redis connection error');
  });
  client.on('ready', () => {
    lastLogged = undefined;
  });
  return refusals;
}

function connectError(error: unknown, url: string, user: string): AgentrixError {
  const reason = error instanceof Error ? error.message : String(error);
  if (isRedisAuthError(error)) {
    const noPassword = /^NOAUTH\b/.test(reason);
    return new AgentrixError(
      'AUTH_FAILED',
      noPassword
        ? `Redis at ${url} requires a password and the URL gives none (${reason}). Put it in the URL: redis://[user]:password@host:port.`
        : `Redis at ${url} refused the credentials of user "${user}" (${reason}). Check the user and password in the URL (REDIS_URL).`,
      { cause: error, details: { url, user } },
    );
  }
  return new AgentrixError(
    'BUS_UNAVAILABLE',
    `Cannot connect to Redis at ${url}: ${reason}. Check that redis-server is running and that the URL (REDIS_URL) is right.`,
    { cause: error, details: { url } },
  );
}
