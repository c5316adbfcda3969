import { type Logger, type MessageBusOptions, parseWith } from '@agentrix/core';
import { messageBusOptionFields } from '@agentrix/core/implement';
import { z } from 'zod';
import { loggerOption } from './logger-option.js';

export interface InMemoryBusOptions extends MessageBusOptions {
  /**
   * How many explicit message ids, and separately how many `externalId`s, each inbox remembers
   * for de-duplication (oldest forgotten first). `0` turns de-duplication off. Default 10_000.
   */
  dedupeWindow?: number;
  /**
   * Receives, in pino's argument order, redeliveries (info: inbox, messageId, deliveryId, attempt)
   * and dead letters (warn: inbox, messageId, attempts, code). Default: `silentLogger`.
   */
  logger?: Logger;
}

/** Validates {@link InMemoryBusOptions} and fills the defaults. */
export const InMemoryBusOptionsSchema = z.object({
  ...messageBusOptionFields,
  dedupeWindow: z.number().int().min(0).default(10_000),
  logger: loggerOption,
});

export type ResolvedInMemoryBusOptions = z.output<typeof InMemoryBusOptionsSchema>;

/** Parses the options or throws `INVALID_ARGUMENT` naming every bad field. */
export function resolveInMemoryBusOptions(options: InMemoryBusOptions | undefined): ResolvedInMemoryBusOptions {
  return parseWith(InMemoryBusOptionsSchema, options ?? {}, 'INVALID_ARGUMENT', 'InMemoryBus options');
}
