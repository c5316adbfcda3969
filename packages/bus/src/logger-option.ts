import { type Logger, silentLogger } from '@agentrix/core';
import { z } from 'zod';

const isLogger = (value: unknown): value is Logger =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Logger).warn === 'function' &&
  typeof (value as Logger).info === 'function';

/** The `logger` option of both buses: a {@link Logger} (pino fits as it is), `silentLogger` by default. */
export const loggerOption = z
  .custom<Logger>(isLogger, 'expected a Logger (debug/info/warn/error)')
  .default(() => silentLogger);
