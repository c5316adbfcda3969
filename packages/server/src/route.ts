import type { z } from 'zod';
import type { Principal } from './auth.js';
import type { Scope } from './server-options.js';

export interface RouteContext<Body, Query> {
  request: Request;
  params: Record<string, string>;
  body: Body;
  query: Query;
  principal: Principal;
}

/**
 * One API route: its method, path (Hono syntax, `:name` for parameters), the scope it needs, and
 * the zod schemas of its body and query. The same definition validates requests and writes the
 * OpenAPI document, so the two cannot disagree.
 */
export interface RouteDefinition<Body = unknown, Query = unknown> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** `'none'`: answered without a token (health, the OpenAPI document). */
  scope: Scope | 'none';
  tag: string;
  summary: string;
  body?: z.ZodType<Body>;
  query?: z.ZodType<Query>;
  /** The success answer's shape, for the OpenAPI document. */
  response?: z.ZodType;
  /** Success status. Default 200. */
  status?: number;
  /** Answers `text/event-stream` (always, or when asked with `Accept`). */
  sse?: boolean;
  /** A value is sent as JSON with `status`; a Response is sent as it is. */
  handler(context: RouteContext<Body, Query>): Promise<unknown> | unknown;
}

/** Keeps the body and query types of a definition (a typed identity). */
export function route<Body = undefined, Query = undefined>(
  definition: RouteDefinition<Body, Query>,
): RouteDefinition<unknown, unknown> {
  return definition as RouteDefinition<unknown, unknown>;
}
