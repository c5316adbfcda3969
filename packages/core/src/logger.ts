import { redactText, redactValue } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * The logging port, in pino's argument order: structured fields first, then the message. A pino
 * (or bunyan-style) logger fits as it is: `createAgentrix({ logger: pino() })`.
 *
 * Fields Agentrix uses throughout: `agentId`, `messageId`, `turnId`, `attempt`, `code`, `error`
 * (a redacted serialized error), `delayMs`, `inbox`, `callId`. Message and prompt content are
 * never logged.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const noop = () => {};

/** Discards everything: the default, so a library never writes to the host's console uninvited. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** Writes JSON lines to the console at or above `level` (warnings and errors to stderr). */
export function createConsoleLogger(level: LogLevel = 'info'): Logger {
  const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
  const min = order[level];
  const write = (at: LogLevel) => (fields: Record<string, unknown>, message: string) => {
    if (order[at] < min) return;
    const line = JSON.stringify({ level: at, time: new Date().toISOString(), msg: message, ...fields });
    if (at === 'error' || at === 'warn') console.error(line);
    else console.log(line);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/**
 * Wraps a logger so every string in its fields and its message is redacted (URL credentials,
 * keys, tokens and each of `secrets`) before the host's logger sees it.
 */
export function redactingLogger(logger: Logger, secrets?: readonly (string | undefined)[]): Logger {
  const wrap =
    (at: LogLevel) =>
    (fields: Record<string, unknown>, message: string): void =>
      logger[at](redactValue(fields, secrets), redactText(message, secrets));
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
