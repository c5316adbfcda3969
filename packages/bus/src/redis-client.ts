import { createHash } from 'node:crypto';
import { AgentrixError } from '@agentrix/core';

/**
 * The part of an ioredis client the Redis bus uses, so `@agentrix/bus` needs no ioredis types.
 * An `ioredis` `Redis` instance fits.
 */
export interface RedisClientLike {
  /** `wait`, `connecting`, `connect`, `ready`, `reconnecting`, `close`, `end`. */
  readonly status: string;
  call(command: string, ...args: Array<string | number | Buffer>): Promise<unknown>;
  evalsha(sha: string, numberOfKeys: number, ...args: Array<string | number | Buffer>): Promise<unknown>;
  eval(script: string, numberOfKeys: number, ...args: Array<string | number | Buffer>): Promise<unknown>;
  /** A new client with the same options (the bus uses one for wake-up subscriptions). */
  duplicate(override?: Record<string, unknown>): RedisClientLike;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** A Lua script run with `EVALSHA`, falling back to `EVAL` once the server has forgotten it (restart, `SCRIPT FLUSH`). */
export class RedisScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClientLike, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** `redis://user:***@host:port/db`: the URL with its password (or lone user token) hidden. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    else if (parsed.username !== '') parsed.username = '***';
    return parsed.toString();
  } catch {
    return '(unparseable Redis URL)';
  }
}

/**
 * A Redis failure as an AgentrixError: replies the server refused (a script bug, wrong key type)
 * are `INTERNAL`; everything else (connection lost, timeouts, retries exhausted) is
 * `BUS_UNAVAILABLE` and retryable.
 */
export function redisError(error: unknown, operation: string, where: string): AgentrixError {
  if (AgentrixError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.name === 'ReplyError') {
    return new AgentrixError('INTERNAL', `Redis refused ${operation} on ${where}: ${message}`, { cause: error });
  }
  return new AgentrixError(
    'BUS_UNAVAILABLE',
    `Redis is unavailable for ${operation} (${where}): ${message}. The call may be retried once Redis is back.`,
    { cause: error },
  );
}
