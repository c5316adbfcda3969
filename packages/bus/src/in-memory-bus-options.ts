import {
  AddressSchema,
  AgentrixEvents,
  type Clock,
  type IdGenerator,
  parseWith,
  randomId,
  systemClock,
} from '@agentrix/core';
import { z } from 'zod';

export interface InMemoryBusOptions {
  /** Where time comes from (`createdAt`, leases, `blockMs`). Default: `systemClock`. */
  clock?: Clock;
  /** Ids for messages the sender did not name. Default: `randomId` (UUID v4). */
  generateId?: IdGenerator;
  /** Receives `message.sent` (only built when someone listens) and `message.dead-lettered`. */
  events?: AgentrixEvents;
  /** Consumer name used by `read` when the caller gives none. Default `'default'`. */
  consumer?: string;
  /** A delivery not acked within this many milliseconds is given to the next reader. Default 30_000. */
  leaseMs?: number;
  /**
   * Deliveries a message gets before it moves to dead letter (with its last nack error)
   * instead of being delivered again. Default 5.
   */
  maxDeliveries?: number;
  /** Largest message, in UTF-8 bytes of `content` plus the JSON of `data`. Default 1 MiB. */
  maxMessageBytes?: number;
  /**
   * How many explicit message ids, and separately how many `externalId`s, each inbox remembers
   * for de-duplication (oldest forgotten first). `0` turns de-duplication off. Default 10_000.
   */
  dedupeWindow?: number;
}

const isClock = (value: unknown): value is Clock =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Clock).now === 'function' &&
  typeof (value as Clock).setTimeout === 'function' &&
  typeof (value as Clock).clearTimeout === 'function';

/** Validates {@link InMemoryBusOptions} and fills the defaults. */
export const InMemoryBusOptionsSchema = z.object({
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
  dedupeWindow: z.number().int().min(0).default(10_000),
});

export type ResolvedInMemoryBusOptions = z.output<typeof InMemoryBusOptionsSchema>;

/** Parses the options or throws `INVALID_ARGUMENT` naming every bad field. */
export function resolveInMemoryBusOptions(options: InMemoryBusOptions | undefined): ResolvedInMemoryBusOptions {
  return parseWith(InMemoryBusOptionsSchema, options ?? {}, 'INVALID_ARGUMENT', 'InMemoryBus options');
}
