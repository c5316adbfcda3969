import {
  AddressSchema,
  AgentrixEvents,
  type Clock,
  type IdGenerator,
  type Logger,
  parseWith,
  randomId,
  silentLogger,
  systemClock,
} from '@agentrix/core';
import { z } from 'zod';
import type { RedisClientLike } from './redis-client.js';

/** Options shared by {@link RedisStreamsBusOptions} and {@link CreateRedisBusOptions}. */
export interface RedisStreamsBusBaseOptions {
  /**
   * Keys are `{keyPrefix}:{namespace}:...`; two buses see the same inboxes and groups only when
   * both match. Default `'agentrix'`.
   */
  keyPrefix?: string;
  /** Separates deployments (or tests) sharing one Redis. Default `'default'`. */
  namespace?: string;
  /** Name of the Redis consumer group on every inbox stream. Default `'agentrix'`. */
  consumerGroup?: string;
  /** Where time comes from (`createdAt`, `deadAt`, `blockMs`). Leases use the Redis server's clock. Default `systemClock`. */
  clock?: Clock;
  /** Ids for messages the sender did not name. Default: `randomId` (UUID v4). */
  generateId?: IdGenerator;
  /** Receives `message.sent` (only built when someone listens) and `message.dead-lettered`. */
  events?: AgentrixEvents;
  /** Reports Redis errors met by blocked reads while they retry. Default: `silentLogger`. */
  logger?: Logger;
  /** Consumer name used by `read` when the caller gives none. Default `'default'`. */
  consumer?: string;
  /**
   * Idle time (Redis `XPENDING ... IDLE`) after which an unacked delivery is given to the next
   * reader: the crash-recovery delay. It must be longer than the longest turn, or a slow but
   * healthy consumer gets its message handed to another one too. Default 30_000.
   */
  leaseMs?: number;
  /** Deliveries a message gets before it moves to the dead-letter stream with its last error. Default 5. */
  maxDeliveries?: number;
  /** Largest message, in UTF-8 bytes of `content` plus the JSON of `data`. Default 1 MiB. */
  maxMessageBytes?: number;
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

const isClock = (value: unknown): value is Clock =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Clock).now === 'function' &&
  typeof (value as Clock).setTimeout === 'function' &&
  typeof (value as Clock).clearTimeout === 'function';

const isLogger = (value: unknown): value is Logger =>
  typeof value === 'object' && value !== null && typeof (value as Logger).warn === 'function';

/** Letters, digits and `_ . -` (no `:` or braces, which structure the keys). */
const KeyPartSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'use 1-64 letters, digits, "_", "." or "-"');

export const RedisStreamsBusBaseOptionsSchema = z.object({
  keyPrefix: KeyPartSchema.default('agentrix'),
  namespace: KeyPartSchema.default('default'),
  consumerGroup: KeyPartSchema.default('agentrix'),
  clock: z
    .custom<Clock>(isClock, 'expected a Clock with now(), setTimeout() and clearTimeout()')
    .default(() => systemClock),
  generateId: z
    .custom<IdGenerator>((value) => typeof value === 'function', 'expected a function returning a string id')
    .default(() => randomId),
  events: z
    .custom<AgentrixEvents>(
      (value) => value instanceof AgentrixEvents || (typeof value === 'object' && value !== null && 'has' in value),
      'expected an AgentrixEvents instance',
    )
    .optional(),
  logger: z.custom<Logger>(isLogger, 'expected a Logger').default(() => silentLogger),
  consumer: AddressSchema.default('default'),
  leaseMs: z.number().int().positive().default(30_000),
  maxDeliveries: z.number().int().min(1).default(5),
  maxMessageBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
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
