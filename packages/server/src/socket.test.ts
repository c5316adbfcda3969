import { type Agentrix, createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentrixServer, createServer } from './create-server.js';
import { readSse } from './test-support.js';

// Over a real listening socket with Node's fetch: what proxies, keep-alive and a client that
// goes away do to a stream is only seen here.
const TOKEN = 'operate-token-0123456789abcdef';
let agentrix: Agentrix;
let server: AgentrixServer;
let url: string;

beforeAll(async () => {
  agentrix = await createAgentrix({ model: new MockLLM({ fallback: { text: 'pong' } }) });
  await agentrix.create({ id: 'echo' });
  server = createServer({ agentrix, tokens: [{ token: TOKEN, scope: 'operate' }] });
  ({ url } = await server.listen({ port: 0 }));
});
afterAll(async () => {
  await server.close();
  await agentrix.close();
});

const headers = { authorization: `Bearer ${TOKEN}` };

describe('over a socket', () => {
  it('asks over HTTP and refuses a request without the token', async () => {
    const response = await fetch(`${url}/api/agents/echo/ask`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'ping' }),
    });
    expect(response.status).toBe(200);
    expect((await response.json()).reply.content).toBe('pong');
    const refused = await fetch(`${url}/api/agents`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({
      error: { code: 'UNAUTHORIZED', message: expect.stringContaining('bearer token') },
    });
  });

  it('streams live events, and a reconnect with Last-Event-ID gets what it missed', async () => {
    const first = new AbortController();
    const stream = await fetch(`${url}/api/events?kind=turn.completed`, { headers, signal: first.signal });
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    await agentrix.ask('echo', 'one');
    const seen = await readSse(stream.body!, (messages) => messages.length >= 1);
    const lastId = seen[0]!.id!;
    expect(seen[0]!.data).toMatchObject({ agentId: 'echo', reply: 'pong' });
    first.abort();

    await agentrix.ask('echo', 'two'); // missed while disconnected
    const again = await fetch(`${url}/api/events?kind=turn.completed`, {
      headers: { ...headers, 'last-event-id': lastId },
    });
    const resumed = await readSse(again.body!, (messages) => messages.length >= 1);
    expect(Number(resumed[0]!.id)).toBeGreaterThan(Number(lastId));
    expect(resumed[0]!.data).toMatchObject({ agentId: 'echo', reply: 'pong' });
  });

  it('sends each event once, in order, while the socket has a read pending', async () => {
    const stream = await fetch(`${url}/api/events?kind=agent.state&agent=burst`, { headers });
    const reading = readSse(stream.body!, (messages) =>
      messages.some((message) => (message.data as { at: number }).at === 99),
    );
    await new Promise((resolve) => setTimeout(resolve, 50)); // the server now waits on an empty stream
    for (let n = 0; n < 5; n++)
      agentrix.events.emit('agent.state', { agentId: 'burst', from: 'idle', to: 'running', at: n });
    await new Promise((resolve) => setTimeout(resolve, 50));
    agentrix.events.emit('agent.state', { agentId: 'burst', from: 'running', to: 'idle', at: 99 });
    const messages = await reading;
    expect(messages.map((message) => (message.data as { at: number }).at)).toEqual([0, 1, 2, 3, 4, 99]);
    const ids = messages.map((message) => Number(message.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('close() ends streams and frees the port', async () => {
    const extra = createServer({ agentrix, tokens: [{ token: TOKEN, scope: 'operate' }] });
    const { url: extraUrl, port } = await extra.listen({ port: 0 });
    const stream = await fetch(`${extraUrl}/api/events`, { headers });
    const body = new Response(stream.body).text();
    await extra.close();
    expect(await body).toContain('retry: 1000');
    await expect(fetch(`${extraUrl}/healthz`)).rejects.toThrow();
    // The port can be taken again at once.
    const reuse = createServer({ agentrix });
    await reuse.listen({ port });
    await reuse.close();
  });
});
