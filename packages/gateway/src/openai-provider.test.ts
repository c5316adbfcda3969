import type { ChatResponse, ChatStreamPart } from '@agentrix/core';
import { LLMock } from '@copilotkit/aimock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAIProvider } from './openai-provider.js';
import {
  chunk,
  completion,
  type FixtureServer,
  startFixtureServer,
  usageChunk,
} from './test-support/openai-fixture-server.js';
import { failure, user } from './test-support/requests.js';
import { countPromptTokens, countTextTokens } from './tokens.js';

const API_KEY = 'sk-test-secret-key-123456';

async function collect(
  stream: AsyncIterable<ChatStreamPart>,
): Promise<{ parts: ChatStreamPart[]; response: ChatResponse }> {
  const parts: ChatStreamPart[] = [];
  for await (const part of stream) parts.push(part);
  const last = parts.at(-1);
  if (last?.type !== 'finish') throw new Error('no finish part');
  return { parts, response: last.response };
}

describe('OpenAIProvider against aimock', () => {
  const mock = new LLMock({ port: 0 });
  let provider: OpenAIProvider;

  beforeAll(async () => {
    mock.onMessage('hello', { content: 'Hi there, friend!', usage: { prompt_tokens: 11, completion_tokens: 5 } });
    mock.onMessage('weather', {
      toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}', id: 'call_w1' }],
      usage: { prompt_tokens: 20, completion_tokens: 9 },
    });
    mock.onMessage('two tools', {
      toolCalls: [
        { name: 'a', arguments: '{"x":1}', id: 'call_a' },
        { name: 'b', arguments: '{"y":2}', id: 'call_b' },
      ],
    });
    mock.onEmbedding('emb', { embedding: [0.1, 0.2, 0.3] });
    await mock.start();
    provider = new OpenAIProvider({
      apiKey: API_KEY,
      baseURL: `${mock.url}/v1`,
      model: 'gpt-4o-mini',
      embeddingDimensions: 3,
    });
  });
  afterAll(async () => {
    await mock.stop();
  });

  it('generates text with usage', async () => {
    const response = await provider.generate(user('hello'));
    expect(response.message).toEqual({ role: 'assistant', content: 'Hi there, friend!' });
    expect(response.finishReason).toBe('stop');
    expect(response.usage).toEqual({ inputTokens: 11, outputTokens: 5 });
    expect(response.model).toBe('gpt-4o-mini');
  });

  it('streams text and ends with the full response and the usage chunk', async () => {
    const { parts, response } = await collect(provider.stream(user('hello')));
    const text = parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : [])).join('');
    expect(text).toBe('Hi there, friend!');
    expect(response.message.content).toBe('Hi there, friend!');
    expect(response.usage).toEqual({ inputTokens: 11, outputTokens: 5 });
  });

  it('returns tool calls, not streamed', async () => {
    const response = await provider.generate({
      ...user('weather'),
      tools: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object' } }],
    });
    expect(response.finishReason).toBe('tool_calls');
    expect(response.message.toolCalls).toEqual([{ id: 'call_w1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    const body = mock.getLastRequest()?.body as unknown as Record<string, unknown>;
    expect(body.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object' } } },
    ]);
  });

  it('streams tool calls as deltas and assembles them', async () => {
    const { parts, response } = await collect(provider.stream(user('two tools')));
    expect(parts.some((part) => part.type === 'tool-call-delta' && part.name === 'a' && part.id === 'call_a')).toBe(
      true,
    );
    expect(response.finishReason).toBe('tool_calls');
    expect(response.message.toolCalls).toEqual([
      { id: 'call_a', name: 'a', arguments: '{"x":1}' },
      { id: 'call_b', name: 'b', arguments: '{"y":2}' },
    ]);
  });

  it('sends every request parameter on the wire', async () => {
    await provider.generate({
      ...user('hello'),
      model: 'gpt-4o',
      maxTokens: 77,
      temperature: 0.3,
      topP: 0.9,
      seed: 42,
      stop: ['END'],
      responseFormat: { type: 'json_schema', name: 'answer', schema: { type: 'object' } },
      providerOptions: { reasoning_effort: 'low', user: 'u-1' },
      tools: [{ name: 't', description: 'd', parameters: { type: 'object' } }],
      toolChoice: { name: 't' },
    });
    const body = mock.getLastRequest()?.body as unknown as Record<string, unknown>;
    expect(body).toMatchObject({
      model: 'gpt-4o',
      max_tokens: 77,
      temperature: 0.3,
      top_p: 0.9,
      seed: 42,
      stop: ['END'],
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
      reasoning_effort: 'low',
      user: 'u-1',
      tool_choice: { type: 'function', function: { name: 't' } },
    });
  });

  it('maps a 429 with retry-after to RATE_LIMITED with retryAfterMs', async () => {
    mock.nextRequestError(429, { message: 'slow down', type: 'rate_limit_error' });
    const error = await failure(provider.generate(user('hello')));
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.isRetryable).toBe(true);
    expect(error.retryAfterMs).toBe(1_000);
  });

  it('maps chaos 429 on a stream to RATE_LIMITED', async () => {
    const chaotic = new OpenAIProvider({
      apiKey: API_KEY,
      baseURL: `${mock.url}/v1`,
      headers: { 'x-aimock-chaos-ratelimit': '1' },
    });
    const error = await failure(collect(chaotic.stream(user('hello'))));
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterMs).toBe(1_000);
  });

  it('maps 500 to a retryable MODEL_ERROR and 401 to AUTH_FAILED', async () => {
    mock.nextRequestError(500, { message: 'boom', type: 'server_error' });
    const server = await failure(provider.generate(user('hello')));
    expect(server.code).toBe('MODEL_ERROR');
    expect(server.isRetryable).toBe(true);
    mock.nextRequestError(401, { message: 'bad key', type: 'invalid_request_error', code: 'invalid_api_key' });
    const auth = await failure(provider.generate(user('hello')));
    expect(auth.code).toBe('AUTH_FAILED');
    expect(auth.isRetryable).toBe(false);
  });

  it('maps a context-length 400 to CONTEXT_LENGTH_EXCEEDED and other 400s to PROVIDER_BAD_REQUEST', async () => {
    mock.nextRequestError(400, { message: 'too long', type: 'invalid_request_error', code: 'context_length_exceeded' });
    expect((await failure(provider.generate(user('hello')))).code).toBe('CONTEXT_LENGTH_EXCEEDED');
    mock.nextRequestError(400, { message: 'bad temperature', type: 'invalid_request_error' });
    const bad = await failure(provider.generate(user('hello')));
    expect(bad.code).toBe('PROVIDER_BAD_REQUEST');
    expect(bad.kind).toBe('system');
    expect(bad.isRetryable).toBe(false);
  });

  it('maps a 404 to MODEL_NOT_FOUND', async () => {
    mock.nextRequestError(404, { message: 'no such model', type: 'invalid_request_error', code: 'model_not_found' });
    expect((await failure(provider.generate(user('hello')))).code).toBe('MODEL_NOT_FOUND');
  });

  it('turns a malformed body into MODEL_RESPONSE_INVALID with the raw body', async () => {
    const chaotic = new OpenAIProvider({
      apiKey: API_KEY,
      baseURL: `${mock.url}/v1`,
      headers: { 'x-aimock-chaos-malformed': '1' },
    });
    const error = await failure(chaotic.generate(user('hello')));
    expect(error.code).toBe('MODEL_RESPONSE_INVALID');
    expect(String(error.details?.rawBody)).toContain('malformed json');
    const streamed = await failure(collect(chaotic.stream(user('hello'))));
    expect(streamed.code).toBe('MODEL_RESPONSE_INVALID');
    expect(String(streamed.details?.rawBody)).toContain('malformed json');
  });

  it('maps a dropped connection to a retryable MODEL_ERROR', async () => {
    const chaotic = new OpenAIProvider({
      apiKey: API_KEY,
      baseURL: `${mock.url}/v1`,
      headers: { 'x-aimock-chaos-disconnect': '1' },
    });
    const error = await failure(collect(chaotic.stream(user('hello'))));
    expect(error.code).toBe('MODEL_ERROR');
    expect(error.isRetryable).toBe(true);
  });

  it('embeds texts in order', async () => {
    const vectors = await provider.embed(['emb one', 'emb two']);
    expect(vectors).toEqual([
      [0.1, 0.2, 0.3],
      [0.1, 0.2, 0.3],
    ]);
    const body = mock.getLastRequest()?.body as unknown as Record<string, unknown>;
    expect(body).toMatchObject({ model: 'text-embedding-3-small' });
  });

  it('rejects an aborted call with ABORTED', async () => {
    const controller = new AbortController();
    controller.abort();
    expect((await failure(provider.generate({ ...user('hello'), signal: controller.signal }))).code).toBe('ABORTED');
  });
});

describe('OpenAIProvider against a wire-format fixture server', () => {
  let server: FixtureServer;
  let provider: OpenAIProvider;
  beforeAll(async () => {
    server = await startFixtureServer((body) => {
      const messages = body.messages as { content: string }[];
      const content = messages.at(-1)?.content ?? '';
      switch (content) {
        case 'cached':
          return body.stream
            ? {
                events: [
                  chunk({ role: 'assistant', content: 'ok' }),
                  chunk({}, 'stop'),
                  usageChunk({
                    prompt_tokens: 100,
                    completion_tokens: 1,
                    prompt_tokens_details: { cached_tokens: 64 },
                  }),
                ],
              }
            : {
                json: completion('ok', {
                  prompt_tokens: 100,
                  completion_tokens: 1,
                  prompt_tokens_details: { cached_tokens: 64 },
                }),
              };
        case 'no usage':
          return {
            events: [chunk({ role: 'assistant', content: 'Hello ' }), chunk({ content: 'world' }), chunk({}, 'stop')],
          };
        case 'cut':
          return {
            events: [chunk({ role: 'assistant', content: 'The first ' }), chunk({ content: 'half of' })],
            cut: true,
          };
        case 'ends early':
          return { events: [chunk({ role: 'assistant', content: 'The first ' })] };
        case 'bad chunk':
          return { events: [chunk({ role: 'assistant', content: 'The ' }), '{not json'] };
        case 'no choices':
          return { json: { id: 'x', object: 'chat.completion', error: `leaked ${API_KEY}` } };
        case 'usage but no choices':
          return { json: { id: 'x', object: 'chat.completion', usage: { prompt_tokens: 40, completion_tokens: 30 } } };
        case 'truncated with usage':
          return {
            raw: '{"id":"x","usage":{"prompt_tokens":41,"completion_tokens":31,"prompt_tokens_details":{"cached_tokens":5}},"choices":[{"message":{"content":"Hel',
            contentType: 'application/json',
          };
        case 'truncated':
          return {
            raw: '{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello wor',
            contentType: 'application/json',
          };
        default:
          return { json: completion('default') };
      }
    });
    provider = new OpenAIProvider({ apiKey: API_KEY, baseURL: server.baseURL });
  });
  afterAll(async () => {
    await server.close();
  });

  it('reports cached input tokens, streamed and not', async () => {
    expect((await provider.generate(user('cached'))).usage).toEqual({
      inputTokens: 100,
      outputTokens: 1,
      cachedInputTokens: 64,
    });
    const { response } = await collect(provider.stream(user('cached')));
    expect(response.usage).toEqual({ inputTokens: 100, outputTokens: 1, cachedInputTokens: 64 });
    expect(server.requests.at(-1)?.stream_options).toEqual({ include_usage: true });
  });

  it('estimates usage when a stream has no usage chunk', async () => {
    const { response } = await collect(provider.stream(user('no usage')));
    expect(response.message.content).toBe('Hello world');
    expect(response.usage.estimated).toBe(true);
    expect(response.usage.outputTokens).toBe(2);
    expect(response.usage.inputTokens).toBeGreaterThan(0);
  });

  it('a stream cut off midway fails with a typed error carrying the partial usage', async () => {
    const parts: ChatStreamPart[] = [];
    const error = await failure(
      (async () => {
        for await (const part of provider.stream(user('cut'))) parts.push(part);
      })(),
    );
    expect(parts.map((part) => (part.type === 'text-delta' ? part.text : part.type))).toEqual([
      'The first ',
      'half of',
    ]);
    expect(error.code).toBe('MODEL_ERROR');
    expect(error.isRetryable).toBe(true);
    expect(error.details?.partialUsage).toMatchObject({ outputTokens: 4, estimated: true });
  });

  it('a stream that ends without a finish reason is MODEL_RESPONSE_INVALID, never an empty success', async () => {
    const error = await failure(collect(provider.stream(user('ends early'))));
    expect(error.code).toBe('MODEL_RESPONSE_INVALID');
    expect(error.details?.partialUsage).toMatchObject({ estimated: true });
  });

  it('a malformed chunk is MODEL_RESPONSE_INVALID', async () => {
    const error = await failure(collect(provider.stream(user('bad chunk'))));
    expect(error.code).toBe('MODEL_RESPONSE_INVALID');
  });

  it('an answer without choices is MODEL_RESPONSE_INVALID with the raw body, secrets redacted', async () => {
    const error = await failure(provider.generate(user('no choices')));
    expect(error.code).toBe('MODEL_RESPONSE_INVALID');
    expect(String(error.details?.rawBody)).toContain('leaked ***');
    expect(JSON.stringify(error.details)).not.toContain(API_KEY);
    // The provider answered, so it billed: the answer carries an estimate of what it used.
    expect(error.details?.partialUsage).toMatchObject({ outputTokens: 0, estimated: true });
  });

  it('a malformed 200 body carries the usage it reports, else an estimate of prompt and output seen', async () => {
    const reported = await failure(provider.generate(user('usage but no choices')));
    expect(reported.code).toBe('MODEL_RESPONSE_INVALID');
    expect(reported.details?.partialUsage).toEqual({ inputTokens: 40, outputTokens: 30 });
    const truncated = await failure(provider.generate(user('truncated with usage')));
    expect(truncated.details?.partialUsage).toEqual({ inputTokens: 41, outputTokens: 31, cachedInputTokens: 5 });
    const cut = await failure(provider.generate(user('truncated')));
    expect(cut.code).toBe('MODEL_RESPONSE_INVALID');
    expect(cut.details?.partialUsage).toEqual({
      inputTokens: countPromptTokens(user('truncated')),
      outputTokens: countTextTokens('Hello wor'),
      estimated: true,
    });
  });
});
