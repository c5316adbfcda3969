// Test support (exported from @agentrix/store/testing): a Logger that keeps every line, in pino's argument order.
import type { Logger, LogLevel } from '@agentrix/core';

export interface LogLine {
  level: LogLevel;
  message: string;
  fields: Record<string, unknown>;
}

export interface CapturingLogger extends Logger {
  readonly lines: LogLine[];
  /** The lines whose message matches `pattern`. */
  find(pattern: RegExp): LogLine[];
}

export function capturingLogger(): CapturingLogger {
  const lines: LogLine[] = [];
  const at = (level: LogLevel) => (fields: Record<string, unknown>, message: string) => {
    lines.push({ level, message, fields });
  };
  return {
    lines,
    find: (pattern) => lines.filter((line) => pattern.test(line.message)),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}
