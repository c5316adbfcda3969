import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fixture server answers to one request. */
export type FixtureReply =
  /** A JSON body with a status (default 200) and headers. */
  | { json: unknown; status?: number; headers?: Record<string, string> }
  /** A raw body with a content type. */
  | { raw: string; contentType: string; status?: number }
  /** Server-sent events: each item becomes `data: <JSON or string>`; `[DONE]` follows unless `cut`. `cut` destroys the socket after the events. */
  | { events: unknown[]; cut?: boolean; done?: boolean };

export interface FixtureServer {
  /** `http://127.0.0.1:<port>/v1`. */
  baseURL: string;
  /** Request bodies received, oldest first. */
  requests: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * A tiny OpenAI-compatible server speaking the real wire format (JSON bodies and SSE chunks),
 * for cases aimock cannot script: cached-token usage, streams cut off after some deltas,
 * streams without a usage chunk, a malformed chunk mid-stream.
 */
export async function startFixtureServer(
  reply: (body: Record<string, unknown>, request: IncomingMessage) => FixtureReply,
): Promise<FixtureServer> {
  const requests: Record<string, unknown>[] = [];
  const server: Server = createServer((request, response) => {
    let data = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      data += chunk;
    });
    request.on('end', () => {
      const body = (data ? JSON.parse(data) : {}) as Record<string, unknown>;
      requests.push(body);
      send(response, reply(body, request));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(response: ServerResponse, reply: FixtureReply): void {
  if ('json' in reply) {
    response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
    response.end(JSON.stringify(reply.json));
    return;
  }
  if ('raw' in reply) {
    response.writeHead(reply.status ?? 200, { 'content-type': reply.contentType });
    response.end(reply.raw);
    return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const event of reply.events) {
    response.write(`data: ${typeof event === 'string' ? event : JSON.stringify(event)}\n\n`);
  }
  if (reply.cut) {
    // Let the written events reach the client before the connection breaks.
    setTimeout(() => response.destroy(), 20);
    return;
  }
  if (reply.done !== false) response.write('data: [DONE]\n\n');
  response.end();
}

/**
 * The 401 OpenAI sends for a key it refuses, echoing the key from the request's `Authorization`
 * header in its message ("Incorrect API key provided: <key>"), as the real API does.
 */
export function incorrectApiKey(request: IncomingMessage): FixtureReply {
  const key = (request.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
  return {
    status: 401,
    json: {
      error: {
        message: `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    },
  };
}

/** One streamed chunk in the chat completions format. */
export function chunk(
  delta: Record<string, unknown>,
  finishReason: string | null = null,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: 'chatcmpl-fixture',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...extra,
  };
}

/** The usage-only last chunk. */
export function usageChunk(usage: Record<string, unknown>): Record<string, unknown> {
  return {
    id: 'chatcmpl-fixture',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [],
    usage,
  };
}

/** A non-streamed completion. */
export function completion(content: string, usage?: Record<string, unknown>): Record<string, unknown> {
  return {
    id: 'chatcmpl-fixture',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
    ...(usage ? { usage } : {}),
  };
}

/**
 * An `/v1/embeddings` answer: one vector per input (from `vectorOf`), with `usage.prompt_tokens`
 * from `tokensOf` (summed over the inputs), as the real API reports it.
 */
export function embeddings(
  body: Record<string, unknown>,
  vectorOf: (text: string) => number[],
  tokensOf: (text: string) => number,
): Record<string, unknown> {
  const inputs = (Array.isArray(body.input) ? body.input : [body.input]) as string[];
  const promptTokens = inputs.reduce((sum, text) => sum + tokensOf(text), 0);
  return {
    object: 'list',
    data: inputs.map((text, index) => ({ object: 'embedding', index, embedding: vectorOf(text) })),
    model: body.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}
