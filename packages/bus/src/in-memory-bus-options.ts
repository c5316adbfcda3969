import { type MessageBusOptions, messageBusOptionFields, parseWith } from '@agentrix/core';
import { z } from 'zod';

export interface InMemoryBusOptions extends MessageBusOptions {
  /**
   * How many explicit message ids, and separately how many `externalId`s, each inbox remembers
   * for de-duplication (oldest forgotten first). `0` turns de-duplication off. Default 10_000.
   */
  dedupeWindow?: number;
}

/** Validates {@link InMemoryBusOptions} and fills the defaults. */
export const InMemoryBusOptionsSchema = z.object({
  ...messageBusOptionFields,
  dedupeWindow: z.number().int().min(0).default(10_000),
});

export type ResolvedInMemoryBusOptions = z.output<typeof InMemoryBusOptionsSchema>;

/** Parses the options or throws `INVALID_ARGUMENT` naming every bad field. */
export function resolveInMemoryBusOptions(options: InMemoryBusOptions | undefined): ResolvedInMemoryBusOptions {
  return parseWith(InMemoryBusOptionsSchema, options ?? {}, 'INVALID_ARGUMENT', 'InMemoryBus options');
}
