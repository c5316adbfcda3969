import { type Logger, type MessageBusOptions, messageBusOptionFields, parseWith, silentLogger } from '@agentrix/core';
import { z } from 'zod';
import type { RedisClientLike } from './redis-client.js';

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
  /** Reports Redis errors met by blocked reads while they retry. Default: `silentLogger`. */
  logger?: Logger;
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

const isLogger = (value: unknown): value is Logger =>
  typeof value === 'object' && value !== null && typeof (value as Logger).warn === 'function';

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
  logger: z.custom<Logger>(isLogger, 'expected a Logger').default(() => silentLogger),
  dedupeWindow: z.number().int().min(0).default(10_000),
  deadLetterMaxLength: z.number().int().positive().default(10_000),
  subscriptionIdleMs: z.number().int().positive().default(60_000),
});

export type ResolvedRedisStreamsBusOptions = z.output<typeof RedisStreamsBusBaseOptionsSchema>;

/** Parses the options (all but the client) or throws `INVALID_ARGUMENT` naming every bad field. */
export function resolveRedisStreamsBusOptions(options: RedisStreamsBusBaseOptions): ResolvedRedisStreamsBusOptions {
  const { client: _client, url: _url, connectTimeoutMs: _timeout, ...rest } = options as CreateRedisBusOptions;
  return parseWith(RedisStreamsBusBaseOptionsSchema, rest, 'INVALID_ARGUMENT', 'RedisStreamsBus options');
}
