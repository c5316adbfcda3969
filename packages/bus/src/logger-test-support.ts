// A logger that keeps what it is given, for tests (not exported from the package).
import type { Logger } from '@agentrix/core';

export interface LogLine {
  level: keyof Logger;
  fields: Record<string, unknown>;
  message: string;
}

/** A {@link Logger} (pino's argument order) that appends every call to `lines`. */
export function capturingLogger(lines: LogLine[]): Logger {
  const at =
    (level: keyof Logger) =>
    (fields: Record<string, unknown>, message: string): void => {
      lines.push({ level, fields, message });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
