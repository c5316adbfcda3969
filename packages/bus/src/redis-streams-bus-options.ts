import { type Logger, type MessageBusOptions, parseWith } from '@agentrix/core';
import type { RedisClientLike } from '@agentrix/core/implement';
import { messageBusOptionFields } from '@agentrix/core/implement';
import { z } from 'zod';
import { loggerOption } from './logger-option.js';

/** Options shared by {@link RedisStreamsBusOptions} and {@link CreateRedisBusOptions}. */
export interface RedisStreamsBusBaseOptions extends MessageBusOptions {
  /**
   * Keys are `{keyPrefix}:{namespace}:...`; two buses see the same inboxes and groups only when
   * both match. Default `'agentrix'`.
   */
  keyPrefix?: string;
  /** Separates deployments (or tests) sharing one Redis. Default `'default'`. */
  namespace?: string;
  /** Name of the Redis consumer group on every inbox stream. Default `'agentrix'`. */
  consumerGroup?: string;
  /**
   * Receives, in pino's argument order: connection outages (warn) and recoveries (info),
   * redeliveries (info: inbox, messageId, deliveryId, attempt), dead letters (warn: inbox,
   * messageId, attempts, code) and Redis errors met by blocked reads while they retry (warn).
   * Default: `silentLogger`.
   */
  logger?: Logger;
  /**
   * Longest wait for Redis to answer one command of the bus (a send, a read, an ack, a
   * `deleteInbox`...): past it the call rejects with `BUS_UNAVAILABLE` (retryable) instead of
   * waiting for a Redis that is down or paused (ioredis queues commands until it reconnects). The
   * command may still run once Redis answers, so a send retried after this error should carry an
   * explicit `id`. Blocked reads are not bounded by it (they wait, and retry while Redis is away).
   * Default 10_000.
   */
  commandTimeoutMs?: number;
  /**
   * Explicit message ids, and separately `externalId`s, each inbox remembers in Redis for
   * de-duplication (oldest forgotten first). `0` turns de-duplication off. Default 10_000.
   */
  dedupeWindow?: number;
  /** Dead letters kept per inbox (`XADD MAXLEN ~`, oldest dropped first). Default 10_000. */
  deadLetterMaxLength?: number;
  /**
   * A process stays subscribed to an inbox's wake channel this long after its last blocked read,
   * so a read / handle / ack loop does not subscribe again every turn. Default 60_000.
   */
  subscriptionIdleMs?: number;
}

/** Options of `new RedisStreamsBus(...)`: a connected ioredis client that the host owns. */
export interface RedisStreamsBusOptions extends RedisStreamsBusBaseOptions {
  /**
   * An ioredis client (or anything with the same methods). The bus never closes it; it opens one
   * more connection of its own (`client.duplicate()`) for wake-up subscriptions and closes that.
   */
  client: RedisClientLike;
}

/** Options of `createRedisBus(...)`: a client that the host owns, or a URL the bus connects to. */
export interface CreateRedisBusOptions extends RedisStreamsBusBaseOptions {
  /** `redis://[user:password@]host:port/db` (or `rediss://`). Default `process.env.REDIS_URL`, then `redis://127.0.0.1:6379`. */
  url?: string;
  /** A client the host owns (then `url` is ignored and the client is never closed by the bus). */
  client?: RedisClientLike;
  /** How long to wait for the first connection before failing with `BUS_UNAVAILABLE`. Default 5_000. */
  connectTimeoutMs?: number;
}

/** Letters, digits and `_ . -` (no `:` or braces, which structure the keys). */
const KeyPartSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'use 1-64 letters, digits, "_", "." or "-"');

export const RedisStreamsBusBaseOptionsSchema = z.object({
  ...messageBusOptionFields,
  keyPrefix: KeyPartSchema.default('agentrix'),
  namespace: KeyPartSchema.default('default'),
  consumerGroup: KeyPartSchema.default('agentrix'),
  logger: loggerOption,
  dedupeWindow: z.number().int().min(0).default(10_000),
  deadLetterMaxLength: z.number().int().positive().default(10_000),
  subscriptionIdleMs: z.number().int().positive().default(60_000),
  // At most the longest delay a platform timer takes.
  commandTimeoutMs: z.number().int().positive().max(2_147_483_647).default(10_000),
});

export type ResolvedRedisStreamsBusOptions = z.output<typeof RedisStreamsBusBaseOptionsSchema>;

/** Parses the options (all but the client) or throws `INVALID_ARGUMENT` naming every bad field. */
export function resolveRedisStreamsBusOptions(options: RedisStreamsBusBaseOptions): ResolvedRedisStreamsBusOptions {
  const { client: _client, url: _url, connectTimeoutMs: _timeout, ...rest } = options as CreateRedisBusOptions;
  return parseWith(RedisStreamsBusBaseOptionsSchema, rest, 'INVALID_ARGUMENT', 'RedisStreamsBus options');
}
