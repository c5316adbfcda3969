export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The logging port. Fields are structured; message and prompt content should not be logged at info. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const noop = () => {};

/** Discards everything: the default, so a library never writes to the host's console uninvited. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** Writes JSON lines to the console at or above `level`. */
export function createConsoleLogger(level: LogLevel = 'info'): Logger {
  const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
  const min = order[level];
  const write = (at: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (order[at] < min) return;
    const line = JSON.stringify({ level: at, time: new Date().toISOString(), message, ...fields });
    if (at === 'error' || at === 'warn') console.error(line);
    else console.log(line);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
