import type { z } from 'zod';
import { AgentrixError, type AgentrixErrorCode } from './errors.js';

/** `path.to.field: message; other: message` from a zod error, for readable error messages. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}

/**
 * Parses `value` with `schema` or throws an AgentrixError with `code` whose message names
 * what was being parsed and every failing field.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  code: AgentrixErrorCode,
  what: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new AgentrixError(code, `Invalid ${what}: ${formatIssues(result.error)}`, {
    cause: result.error,
    details: { issues: result.error.issues },
  });
}
