import { type Logger, type MessageBusOptions, parseWith, silentLogger } from '@agentrix/core';
import { messageBusOptionFields } from '@agentrix/core/implement';
import { z } from 'zod';
import type { Database } from './database.js';

export interface SqlMessageBusOptions extends MessageBusOptions {
  /** A database migrated with `storeMigrations`. The bus does not close it. */
  database: Database;
  /** The notification channel that wakes blocked readers. Default `'agentrix_bus'`. */
  channel?: string;
  /**
   * Where the bus reports what a consumer cannot see: leases that expired without ack (info),
   * redeliveries (debug), dead letters (warn, with the last error's `code`), database trouble met
   * while waking blocked readers (warn; they are retried with backoff) and its end (info). Fields:
   * `inbox`, `messageId`, `attempt`, `code`, `error`. Default: silent.
   */
  logger?: Logger;
}

export const SqlMessageBusOptionsSchema = z.object({
  database: z.custom<Database>(
    (value) => typeof value === 'object' && value !== null && 'kysely' in value && 'notifyLocal' in value,
    'expected a Database from openDatabase()',
  ),
  ...messageBusOptionFields,
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
