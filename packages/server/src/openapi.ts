import { z } from 'zod';
import type { RouteDefinition } from './route.js';
import { ErrorResponse } from './schemas.js';

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

/** `/api/agents/:id` -> `/api/agents/{id}`. */
const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** The OpenAPI 3.1 document of the routes, from the same zod schemas that validate requests. */
export function openApiDocument(routes: readonly RouteDefinition[], info: { title: string; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  const error = { content: { 'application/json': { schema: toSchema(ErrorResponse, 'output') } } };
  for (const definition of routes) {
    const parameters: unknown[] = [];
    for (const [, name] of definition.path.matchAll(/:([A-Za-z0-9_]+)/g)) {
      parameters.push({ name, in: 'path', required: true, schema: { type: 'string' } });
    }
    if (definition.query) {
      const schema = toSchema(definition.query, 'input') as { properties?: Record<string, JsonSchema> };
      for (const [name, property] of Object.entries(schema.properties ?? {})) {
        if (name === 'access_token') continue;
        parameters.push({ name, in: 'query', required: false, schema: property });
      }
    }
    const success: Record<string, unknown> = { description: 'OK' };
    if (definition.sse) {
      success.content = {
        'text/event-stream': { schema: { type: 'string' } },
        ...(definition.response ? { 'application/json': { schema: toSchema(definition.response, 'output') } } : {}),
      };
    } else if (definition.response) {
      success.content = { 'application/json': { schema: toSchema(definition.response, 'output') } };
    } else {
      success.content = { 'application/json': { schema: {} } };
    }
    const operation: Record<string, unknown> = {
      operationId: `${definition.method.toLowerCase()}${openApiPath(definition.path).replace(/[^A-Za-z0-9]+(.)?/g, (_, next: string | undefined) => (next ?? '').toUpperCase())}`,
      tags: [definition.tag],
      summary: definition.summary,
      parameters,
      responses: { [String(definition.status ?? 200)]: success, default: { description: 'Error', ...error } },
    };
    if (definition.scope !== 'none') {
      operation.security = [{ bearer: [definition.scope] }];
      operation['x-agentrix-scope'] = definition.scope;
    }
    if (definition.body) {
      operation.requestBody = {
        required: false,
        content: { 'application/json': { schema: toSchema(definition.body, 'input') } },
      };
    }
    const path = openApiPath(definition.path);
    paths[path] ??= {};
    paths[path]![definition.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Scopes: read < operate < admin' },
      },
    },
  };
}
