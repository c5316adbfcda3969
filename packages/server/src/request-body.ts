import { AgentrixError } from '@agentrix/core';
import type { z } from 'zod';

/**
 * Reads a JSON body of at most `maxBytes`: a `Content-Length` over it is refused before reading,
 * a chunked body is counted as it streams and refused as soon as it passes the limit. An empty
 * body is `{}` (so `curl -X POST` works for routes whose fields are all optional).
 */
export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  checkDeclaredLength(request, maxBytes);
  if (request.body === null) return {};
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AgentrixError('MALFORMED_REQUEST', `The request body is not valid JSON: ${(error as Error).message}`);
  }
}

export function checkDeclaredLength(request: Request, maxBytes: number): void {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
}

function tooLarge(maxBytes: number): AgentrixError {
  return new AgentrixError('REQUEST_TOO_LARGE', `The request body is over the limit of ${maxBytes} bytes`, {
    details: { maxBytes },
  });
}

/** Validates with zod; INVALID_ARGUMENT naming every failing field. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || what}: ${issue.message}`).join('; ');
  throw new AgentrixError('INVALID_ARGUMENT', `Invalid ${what}: ${issues}`, {
    details: { issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })) },
  });
}

/** The query string as an object (the last value of a repeated key). */
export function queryObject(url: URL): Record<string, string> {
  return Object.fromEntries(url.searchParams.entries());
}
