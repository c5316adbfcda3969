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
import type { Database } from './database.js';

export interface SqlMessageBusOptions {
  /** A database migrated with `storeMigrations`. The bus does not close it. */
  database: Database;
  /** Where time comes from (`createdAt`, leases, `blockMs`). Default: `systemClock`. */
  clock?: Clock;
  /** Ids for messages the sender did not name. Default: `randomId` (UUID v4). */
  generateId?: IdGenerator;
  /** Receives `message.sent` (only built when someone listens) and `message.dead-lettered`. */
  events?: AgentrixEvents;
  /** Consumer name used by `read` and `extendLease` when the caller gives none. Default `'default'`. */
  consumer?: string;
  /** A delivery not acked (or extended) within this many milliseconds is given to the next reader. Default 30_000. */
  leaseMs?: number;
  /** Deliveries a message gets before it moves to dead letter with its last error. Default 5. */
  maxDeliveries?: number;
  /** Largest message, in UTF-8 bytes of `content` plus the JSON of `data`. Default 1 MiB. */
  maxMessageBytes?: number;
  /** The notification channel that wakes blocked readers. Default `'agentrix_bus'`. */
  channel?: string;
  /** Reports database trouble met while waking blocked readers (they are retried with backoff). Default: silent. */
  logger?: Logger;
}

const isClock = (value: unknown): value is Clock =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Clock).now === 'function' &&
  typeof (value as Clock).setTimeout === 'function' &&
  typeof (value as Clock).clearTimeout === 'function';

export const SqlMessageBusOptionsSchema = z.object({
  database: z.custom<Database>(
    (value) => typeof value === 'object' && value !== null && 'kysely' in value && 'notifyLocal' in value,
    'expected a Database from openDatabase()',
  ),
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
  consumer: AddressSchema.default('default'),
  leaseMs: z.number().int().positive().default(30_000),
  maxDeliveries: z.number().int().min(1).default(5),
  maxMessageBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  channel: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .default('agentrix_bus'),
  logger: z
    .custom<Logger>((value) => typeof value === 'object' && value !== null, 'expected a Logger')
    .default(() => silentLogger),
});

export type ResolvedSqlMessageBusOptions = z.output<typeof SqlMessageBusOptionsSchema>;

export function resolveSqlMessageBusOptions(options: SqlMessageBusOptions): ResolvedSqlMessageBusOptions {
  return parseWith(SqlMessageBusOptionsSchema, options ?? {}, 'INVALID_ARGUMENT', 'SqlMessageBus options');
}
