import { createHash } from 'node:crypto';
import type { ChatRequest } from '@agentrix/core';

/**
 * The response cache key: a SHA-256 of everything that changes the answer — the provider model,
 * every message field, tools, tool choice, max tokens, temperature, top_p, seed, stop sequences,
 * the response format and every provider option (reasoning effort and the like) — as canonical
 * JSON (object keys sorted), and the user the call is for (`scope.userId`).
 *
 * The user is the privacy boundary: one user's answer (a sample the model gave them, which may
 * carry what they told it) is never served to another, even for the same prompt. The rest of the
 * scope (agent, workflow, tags) only says whom to charge, so it is left out, like the tier and
 * the signal: agents and workflows serving one user share that user's cache.
 */
export function responseCacheKey(model: string, request: ChatRequest): string {
  const material = canonicalJson([
    'v2',
    request.scope?.userId ?? null,
    model,
    request.messages,
    request.tools ?? null,
    request.toolChoice ?? null,
    request.maxTokens ?? null,
    request.temperature ?? null,
    request.topP ?? null,
    request.seed ?? null,
    request.stop ?? null,
    request.responseFormat ?? null,
    request.providerOptions ?? null,
  ]);
  return createHash('sha256').update(material).digest('base64url');
}

/** The embedding cache key: the embedder's name and model, and the text. */
export function embeddingCacheKey(embedder: string, text: string): string {
  return createHash('sha256').update(`v1\u0000${embedder}\u0000${text}`).digest('base64url');
}

/** JSON with object keys sorted at every depth; `undefined` fields are dropped as JSON does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  const keys = Object.keys(value).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined || typeof item === 'function') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item)}`;
    first = false;
  }
  return `${out}}`;
}
