import { AgentrixError, defineTool } from '@agentrix/core';
import { type Agentrix, createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AgentrixServer, createServer } from './create-server.js';
import { call, readSse } from './test-support.js';

const ADMIN = 'admin-token-0123456789abcdef';
const OPERATE = 'operate-token-0123456789abcd';
const READ = 'read-token-0123456789abcdefgh';
const TOKENS = [
  { token: ADMIN, scope: 'admin' as const, name: 'ops' },
  { token: OPERATE, scope: 'operate' as const },
  { token: READ, scope: 'read' as const },
];

const weather = defineTool({
  name: 'weather',
  description: 'Temperature in a city',
  input: z.object({ city: z.string() }),
  execute: ({ city }) => ({ city, celsius: 21 }),
});

let agentrix: Agentrix;
let server: AgentrixServer;
let model: MockLLM;

beforeEach(async () => {
  model = new MockLLM({ fallback: (request) => ({ text: `echo: ${String(request.messages.at(-1)?.content)}` }) });
  agentrix = await createAgentrix({ model, tools: [weather] });
  await agentrix.create({ id: 'assistant', role: 'helper', tools: ['weather'] });
  server = createServer({ agentrix, tokens: TOKENS });
});
afterEach(async () => {
  await server.close();
  await agentrix.close();
});

describe('agents', () => {
  it('lists agents with state, turns, last error and budgets; gets one', async () => {
    const list = await call(server, 'GET', '/api/agents', { token: READ });
    expect(list.status).toBe(200);
    expect(list.json.agents).toEqual([
      expect.objectContaining({ id: 'assistant', role: 'helper', state: 'idle', turns: 0, budgets: [] }),
    ]);
    const one = await call(server, 'GET', '/api/agents/assistant', { token: READ });
    expect(one.json.agent.spec.tools).toEqual(['weather']);
    expect((await call(server, 'GET', '/api/agents?state=paused', { token: READ })).json.agents).toEqual([]);
  });

  it('creates, pauses, resumes and terminates', async () => {
    const created = await call(server, 'POST', '/api/agents', {
      token: ADMIN,
      body: { id: 'writer', instructions: 'Write.' },
    });
    expect(created.status).toBe(201);
    expect(created.json.agent).toMatchObject({ id: 'writer', state: 'idle' });
    expect((await call(server, 'POST', '/api/agents/writer/pause', { token: OPERATE })).json.agent.state).toBe(
      'paused',
    );
    expect((await call(server, 'POST', '/api/agents/writer/resume', { token: OPERATE })).json.agent.state).toBe('idle');
    const terminated = await call(server, 'POST', '/api/agents/writer/terminate', { token: ADMIN });
    expect(terminated.json.agent.state).toBe('terminated');
    const again = await call(server, 'POST', '/api/agents/writer/resume', { token: OPERATE });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('AGENT_TERMINATED');
  });

  it('asks (JSON), sends, and shows threads and their messages', async () => {
    const asked = await call(server, 'POST', '/api/agents/assistant/ask', {
      token: OPERATE,
      body: { content: 'hello', threadId: 'chat-1' },
    });
    expect(asked.status).toBe(200);
    expect(asked.json.reply).toMatchObject({ content: 'echo: hello', threadId: 'chat-1' });
    const sent = await call(server, 'POST', '/api/agents/assistant/send', {
      token: OPERATE,
      body: { content: 'later', threadId: 'chat-2' },
    });
    expect(sent.status).toBe(202);
    expect(sent.json.message).toMatchObject({ to: 'assistant', content: 'later' });
    await agentrix.waitForIdle();
    const threads = await call(server, 'GET', '/api/agents/assistant/threads', { token: READ });
    expect(threads.json.threads.map((thread: { threadId: string }) => thread.threadId).sort()).toEqual([
      'chat-1',
      'chat-2',
    ]);
    const thread = await call(server, 'GET', '/api/agents/assistant/threads/chat-1', { token: READ });
    expect(thread.json.thread.messages.map((message: { content: string }) => message.content)).toEqual([
      'hello',
      'echo: hello',
    ]);
    expect((await call(server, 'GET', '/api/agents/assistant', { token: READ })).json.agent.turns).toBe(2);
    const forgotten = await call(server, 'DELETE', '/api/agents/assistant/threads/chat-2', { token: ADMIN });
    expect(forgotten.json).toEqual({ forgotten: true });
    const missing = await call(server, 'GET', '/api/agents/assistant/threads/chat-2', { token: READ });
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('THREAD_NOT_FOUND');
  });

  it('streams an ask: tokens, the tool call, then the reply', async () => {
    const streaming = new MockLLM({
      script: [
        { toolCalls: [{ name: 'weather', arguments: { city: 'Oslo' } }] },
        { text: 'It is 21 degrees in Oslo.', chunks: ['It is ', '21 degrees ', 'in Oslo.'] },
      ],
    });
    agentrix.registerModel('streaming', streaming);
    await agentrix.create({ id: 'forecaster', model: 'streaming', tools: ['weather'] });
    const response = await server.fetch(
      new Request('http://localhost/api/agents/forecaster/ask', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${OPERATE}`,
          accept: 'text/event-stream',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ content: 'Weather in Oslo?' }),
      }),
    );
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const messages = await readSse(response.body!, (seen) => seen.some((message) => message.event === 'reply'));
    const names = messages.map((message) => message.event);
    expect(names.slice(0, 2)).toEqual(['tool.called', 'tool.completed']);
    expect(
      messages.filter((message) => message.event === 'token').map((message) => (message.data as { text: string }).text),
    ).toEqual(['It is ', '21 degrees ', 'in Oslo.']);
    expect(messages.at(-1)).toMatchObject({
      event: 'reply',
      data: { reply: { content: 'It is 21 degrees in Oslo.' } },
    });
  });

  it('a streamed ask that fails ends with an error event', async () => {
    agentrix.registerModel(
      'broken',
      new MockLLM({ fallback: { error: new AgentrixError('AUTH_FAILED', 'the key was refused') } }),
    );
    await agentrix.create({ id: 'broken', model: 'broken', modelRetry: { attempts: 1 } });
    const response = await server.fetch(
      new Request('http://localhost/api/agents/broken/ask', {
        method: 'POST',
        headers: { authorization: `Bearer ${OPERATE}`, accept: 'text/event-stream' },
        body: JSON.stringify({ content: 'hi' }),
      }),
    );
    const messages = await readSse(response.body!, (seen) => seen.some((message) => message.event === 'error'));
    expect(messages.at(-1)?.event).toBe('error');
    expect(messages.at(-1)?.data).toEqual({
      error: { code: 'AUTH_FAILED', message: 'Agent "broken" failed to answer: the key was refused' },
    });
  });
});

describe('bad input: one JSON error shape, the right status, nothing changed', () => {
  it('malformed JSON, wrong types, unknown routes, unknown agents and threads, oversized bodies', async () => {
    const before = agentrix.list().length;
    const cases: [string, string, Parameters<typeof call>[3], number, string][] = [
      ['POST', '/api/agents', { token: ADMIN, raw: '{"id": "x",' }, 400, 'MALFORMED_REQUEST'],
      ['POST', '/api/agents', { token: ADMIN, body: { id: 'x', maxSteps: 'many' } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/api/agents', { token: ADMIN, body: { id: 'x', maxStep: 3 } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/api/agents', { token: ADMIN, body: [1, 2] }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/api/agents/assistant/ask', { token: OPERATE, body: { content: 42 } }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/api/agents/assistant/send', { token: OPERATE, body: {} }, 400, 'INVALID_ARGUMENT'],
      ['GET', '/api/agents?state=sleeping', { token: READ }, 400, 'INVALID_ARGUMENT'],
      ['GET', '/api/agents/assistant/threads?limit=-1', { token: READ }, 400, 'INVALID_ARGUMENT'],
      ['GET', '/api/nothing-here', { token: READ }, 404, 'NOT_FOUND'],
      ['DELETE', '/api/agents', { token: ADMIN }, 404, 'NOT_FOUND'],
      ['GET', '/api/agents/ghost', { token: READ }, 404, 'AGENT_NOT_FOUND'],
      ['POST', '/api/agents/ghost/pause', { token: OPERATE }, 404, 'AGENT_NOT_FOUND'],
      ['POST', '/api/agents/ghost/ask', { token: OPERATE, body: { content: 'hi' } }, 404, 'AGENT_NOT_FOUND'],
      ['GET', '/api/agents/ghost/threads', { token: READ }, 404, 'AGENT_NOT_FOUND'],
      ['GET', '/api/agents/assistant/threads/nope', { token: READ }, 404, 'THREAD_NOT_FOUND'],
      ['DELETE', '/api/agents/assistant/threads/nope', { token: ADMIN }, 404, 'THREAD_NOT_FOUND'],
      [
        'POST',
        '/api/agents',
        { token: ADMIN, body: { id: 'big', instructions: 'x'.repeat(1_100_000) } },
        413,
        'REQUEST_TOO_LARGE',
      ],
      ['POST', '/api/agents', { token: ADMIN, body: { id: 'assistant' } }, 409, 'AGENT_EXISTS'],
      ['GET', '/api/hq/report', { token: READ }, 404, 'NOT_FOUND'],
      ['GET', '/api/gateway/budgets', { token: READ }, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, options, status, code] of cases) {
      const answer = await call(server, method, path, options);
      expect({ method, path, status: answer.status, code: answer.json?.error?.code }).toEqual({
        method,
        path,
        status,
        code,
      });
      expect(answer.headers.get('content-type')).toBe('application/json');
      expect(Object.keys(answer.json)).toEqual(['error']);
      expect(answer.json.error.message).toBeTypeOf('string');
    }
    expect(agentrix.list().length).toBe(before);
    expect(agentrix.get('assistant')).toMatchObject({ state: 'idle', turns: 0 });
    expect(model.requests).toHaveLength(0);
  });

  it('a chunked body over the limit is refused while it streams', async () => {
    const small = createServer({ agentrix, maxBodyBytes: 100 });
    const chunks = [
      new TextEncoder().encode('{"content":"'),
      new TextEncoder().encode('x'.repeat(500)),
      new TextEncoder().encode('"}'),
    ];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const response = await small.fetch(
      new Request('http://localhost/api/agents/assistant/send', {
        method: 'POST',
        body,
        duplex: 'half',
      } as RequestInit),
    );
    expect(response.status).toBe(413);
    expect((await response.json()).error.code).toBe('REQUEST_TOO_LARGE');
    await small.close();
    expect(model.requests).toHaveLength(0);
  });
});

describe('tokens and scopes', () => {
  it('refuses a missing or wrong token (401) and a too-low scope (403), changing nothing', async () => {
    const missing = await call(server, 'GET', '/api/agents');
    expect(missing.status).toBe(401);
    expect(missing.json.error.code).toBe('UNAUTHORIZED');
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await call(server, 'POST', '/api/agents/assistant/pause', { token: `${ADMIN}x` });
    expect(wrong.status).toBe(401);
    const readPause = await call(server, 'POST', '/api/agents/assistant/pause', { token: READ });
    expect(readPause.status).toBe(403);
    expect(readPause.json.error.code).toBe('FORBIDDEN');
    const operateCreate = await call(server, 'POST', '/api/agents', { token: OPERATE, body: { id: 'nope' } });
    expect(operateCreate.status).toBe(403);
    for (const action of ['redrive', 'discard']) {
      const path = `/api/bus/inboxes/assistant/dead-letters/${action}`;
      expect((await call(server, 'POST', path, { token: READ, body: { ids: ['m1'] } })).status).toBe(403);
    }
    const basic = await call(server, 'GET', '/api/agents', { headers: { authorization: `Basic ${ADMIN}` } });
    expect(basic.status).toBe(401);
    expect(agentrix.get('assistant').state).toBe('idle');
    expect(agentrix.has('nope')).toBe(false);
    // No token is echoed back.
    for (const answer of [missing, wrong, readPause, operateCreate]) expect(answer.text).not.toContain(ADMIN);
  });

  it('health, readiness and the OpenAPI document need no token', async () => {
    expect((await call(server, 'GET', '/healthz')).json).toEqual({ status: 'ok' });
    const ready = await call(server, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ ready: true, health: { status: 'ok', bus: { status: 'ok' } } });
    const openapi = (await call(server, 'GET', '/openapi.json')).json;
    expect(openapi.openapi).toBe('3.1.0');
    const ask = openapi.paths['/api/agents/{id}/ask'].post;
    expect(ask['x-agentrix-scope']).toBe('operate');
    expect(ask.requestBody.content['application/json'].schema.required).toEqual(['content']);
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/api/hq/strategic-goal', '/api/events', '/api/queues/{queue}/jobs/{jobId}/redrive']),
    );
    const discard = openapi.paths['/api/bus/inboxes/{inbox}/dead-letters/discard'].post;
    expect(discard['x-agentrix-scope']).toBe('operate');
    expect(discard.requestBody.content['application/json'].schema.required).toEqual(['ids']);
    const redrive = openapi.paths['/api/bus/inboxes/{inbox}/dead-letters/redrive'].post;
    expect(Object.keys(redrive.requestBody.content['application/json'].schema.properties)).toEqual(['ids', 'limit']);
    // Every route in the table is in the document.
    expect(Object.values(openapi.paths).flatMap((path) => Object.keys(path as object))).toHaveLength(
      server.routes.length,
    );
  });

  it('without tokens (loopback only) everything is allowed', async () => {
    const open = createServer({ agentrix });
    expect((await call(open, 'POST', '/api/agents/assistant/pause')).json.agent.state).toBe('paused');
    await open.close();
  });

  it('refuses short tokens and unknown scopes', () => {
    expect(() => createServer({ agentrix, tokens: [{ token: 'short', scope: 'admin' }] })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => createServer({ agentrix, tokens: [{ token: ADMIN, scope: 'root' as never }] })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('refuses to listen beyond loopback without tokens', async () => {
    const open = createServer({ agentrix });
    await expect(open.listen({ host: '0.0.0.0', port: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await open.close();
  });
});

describe('mounting and CORS', () => {
  it('mounts under a host prefix', async () => {
    const host = new Hono();
    host.get('/', (c) => c.text('host home'));
    host.route('/ops', server.app);
    const answer = await call(host, 'GET', '/ops/api/agents', { token: READ });
    expect(answer.json.agents[0].id).toBe('assistant');
    expect((await call(host, 'GET', '/ops/healthz')).json).toEqual({ status: 'ok' });
  });

  it('sends no CORS headers unless configured', async () => {
    const plain = await call(server, 'GET', '/api/agents', {
      token: READ,
      headers: { origin: 'https://evil.example' },
    });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
    const withCors = createServer({ agentrix, tokens: TOKENS, cors: { origin: ['https://ops.example'] } });
    const allowed = await call(withCors, 'GET', '/api/agents', {
      token: READ,
      headers: { origin: 'https://ops.example' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://ops.example');
    await withCors.close();
  });
});
