import { AgentrixError } from '@agentrix/core';
import { type RedisClientLike, redactRedisUrl } from './redis-client.js';
import { markClientOwned, RedisStreamsBus } from './redis-streams-bus.js';
import { type CreateRedisBusOptions, resolveRedisStreamsBusOptions } from './redis-streams-bus-options.js';

const DEFAULT_URL = 'redis://127.0.0.1:6379';
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Creates a {@link RedisStreamsBus}. With `client`, uses it (and never closes it). Otherwise
 * connects to `url` (default `REDIS_URL`, then `redis://127.0.0.1:6379`) with ioredis (an
 * optional peer dependency: install it), and the bus closes that connection on `close()`.
 *
 * Fails with `BUS_UNAVAILABLE` (the URL in the message, password hidden) when Redis cannot be
 * reached within `connectTimeoutMs`, and with `INVALID_ARGUMENT` for invalid options.
 */
export async function createRedisBus(options: CreateRedisBusOptions = {}): Promise<RedisStreamsBus> {
  if (options.client !== undefined) return new RedisStreamsBus({ ...options, client: options.client });
  resolveRedisStreamsBusOptions(options); // fail on bad options before connecting
  const url = options.url ?? process.env.REDIS_URL ?? DEFAULT_URL;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw new AgentrixError('INVALID_ARGUMENT', `connectTimeoutMs must be a positive number, got ${connectTimeoutMs}`);
  }
  let Redis: typeof import('ioredis').Redis;
  try {
    ({ Redis } = await import('ioredis'));
  } catch (error) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      'createRedisBus needs the ioredis package to connect to a URL: install it (npm install ioredis) or pass options.client',
      { cause: error },
    );
  }
  const redacted = redactRedisUrl(url);
  let client: InstanceType<typeof Redis>;
  try {
    client = new Redis(url, {
      lazyConnect: true,
      // No auto-pipelining: the bus batches sends, reads and acks per tick itself, and ioredis keeps
      // only one auto-pipeline in flight, which would make Node and Redis take turns.
      enableAutoPipelining: false,
      connectTimeout: connectTimeoutMs,
    });
  } catch (error) {
    throw new AgentrixError('INVALID_ARGUMENT', `Invalid Redis URL ${redacted}: ${(error as Error).message}`, {
      cause: error,
      details: { url: redacted },
    });
  }
  // Connection errors surface through commands (and are retried by ioredis); without a listener
  // Node would treat the emitted 'error' events as unhandled.
  client.on('error', (error: Error) =>
    options.logger?.warn({ url: redacted, error: error.message }, 'Redis connection error'),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      }),
    ]);
  } catch (error) {
    client.disconnect();
    throw new AgentrixError(
      'BUS_UNAVAILABLE',
      `Cannot connect to Redis at ${redacted}: ${error instanceof Error ? error.message : String(error)}. ` +
        'Check that redis-server is running and that the URL (REDIS_URL) is right.',
      { cause: error, details: { url: redacted } },
    );
  } finally {
    clearTimeout(timer);
  }
  const owned = client as unknown as RedisClientLike;
  markClientOwned(owned);
  try {
    return new RedisStreamsBus({ ...options, client: owned });
  } catch (error) {
    client.disconnect();
    throw error;
  }
}
