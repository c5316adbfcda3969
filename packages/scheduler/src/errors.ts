import { AgentrixError } from '@agentrix/core';

/** Thrown for a cron expression croner cannot parse; `expression` is the text given. */
export class InvalidCronError extends AgentrixError {
  readonly expression: string;
  constructor(expression: string, cause: unknown) {
    super(
      'INVALID_ARGUMENT',
      `Invalid cron expression "${expression}": ${cause instanceof Error ? cause.message : String(cause)}. ` +
        'Use 5 fields (minute hour day-of-month month day-of-week), like "*/15 * * * *".',
      { cause, details: { expression } },
    );
    this.name = 'InvalidCronError';
    this.expression = expression;
  }
}

/** A short text for `last_error` columns. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = AgentrixError.isInstance(error) ? `${error.code}: ` : '';
    return `${code}${error.message}`.slice(0, 4000);
  }
  return String(error).slice(0, 4000);
}
