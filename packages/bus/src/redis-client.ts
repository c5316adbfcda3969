import { createHash } from 'node:crypto';
import { AgentrixError } from '@agentrix/core';
import type { RedisClientLike } from '@agentrix/core/implement';
import { type ReplyForm, sendScript } from './redis-script-command.js';

/** A Lua script run with `EVALSHA`, falling back to `EVAL` once the server has forgotten it (restart, `SCRIPT FLUSH`). */
export class RedisScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    client: RedisClientLike,
    keys: readonly string[],
    args: ReadonlyArray<string | number>,
    replies: ReplyForm = 'strings',
  ): Promise<unknown> {
    try {
      return await sendScript(client, 'evalsha', this.sha, keys, args, replies);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return sendScript(client, 'eval', this.source, keys, args, replies);
    }
  }
}

/** What a Redis command (or script) that got no reply in time rejects with; `redisError` makes it `BUS_UNAVAILABLE`. */
class RedisNoReplyError extends Error {
  constructor(timeoutMs: number) {
    super(`no reply within ${timeoutMs} ms (commandTimeoutMs)`);
    this.name = 'RedisNoReplyError';
  }
}

/**
 * Settles like `promise`, or rejects with {@link RedisNoReplyError} after `timeoutMs`. ioredis
 * queues commands while its connection is down and waits for ever on a server that stopped
 * answering (a paused process, a lost network path); this bounds every call the bus makes. The
 * command itself is not withdrawn: it may still run once Redis answers again (a send may still
 * be stored, which is why a retried send should carry an explicit id).
 *
 * The timer is the platform's, not the injected clock: it measures network time, which a test's
 * fake clock jumping ahead must not cut short. It keeps the process alive while it runs, as the
 * socket it guards does.
 */
export function withDeadline<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new RedisNoReplyError(timeoutMs)), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Redis refused the connection's credentials: `WRONGPASS`, `NOAUTH`, or `invalid password` from Redis before 6. */
export function isRedisAuthError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /^(WRONGPASS|NOAUTH)\b|invalid password|invalid username-password/i.test(message);
}

/**
 * Replies of a cluster that is changing or partly down (a slot without a primary, a failover, a
 * slot moving): retryable, like a lost connection, once ioredis has used up its own retries.
 */
const CLUSTER_UNAVAILABLE = /^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|MASTERDOWN|LOADING|READONLY)\b/;

/**
 * A Redis failure as an AgentrixError: refused credentials are `AUTH_FAILED` (not retryable);
 * other replies the server refused (a script bug, wrong key type) are `INTERNAL`; everything else
 * (connection lost, no reply in time, retries exhausted, a cluster slot without a primary) is
 * `BUS_UNAVAILABLE` and retryable.
 */
export function redisError(error: unknown, operation: string, where: string): AgentrixError {
  if (AgentrixError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isRedisAuthError(error)) {
    return new AgentrixError(
      'AUTH_FAILED',
      `Redis refused the credentials for ${operation} (${where}): ${message}. Check the user and password the Redis client connects with.`,
      { cause: error },
    );
  }
  if (error instanceof Error && error.name === 'ReplyError' && !CLUSTER_UNAVAILABLE.test(message)) {
    return new AgentrixError('INTERNAL', `Redis refused ${operation} on ${where}: ${message}`, { cause: error });
  }
  return new AgentrixError(
    'BUS_UNAVAILABLE',
    `Redis is unavailable for ${operation} (${where}): ${message}. The call may be retried once Redis is back.`,
    { cause: error },
  );
}
