import { type Agentrix, createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AgentrixServer, createServer } from './create-server.js';
import { call, parseSse, readSse } from './test-support.js';

const TOKEN = 'read-token-0123456789abcdefgh';

let agentrix: Agentrix;
let server: AgentrixServer;

beforeEach(async () => {
  agentrix = await createAgentrix({ model: new MockLLM({ fallback: { text: 'ok' } }) });
  server = createServer({
    agentrix,
    tokens: [{ token: TOKEN, scope: 'read' }],
    eventBufferSize: 8,
    maxQueuedEvents: 16,
  });
});
afterEach(async () => {
  await server.close();
  await agentrix.close();
});

const state = (agentId: string, n: number) =>
  agentrix.events.emit('agent.state', { agentId, from: 'idle', to: 'running', at: n });

function subscribe(query = '', headers: Record<string, string> = {}) {
  return server.fetch(
    new Request(`http://localhost/api/events${query}`, { headers: { authorization: `Bearer ${TOKEN}`, ...headers } }),
  );
}

describe('live events over SSE', () => {
  it('streams every event of the one stream, filtered by agent and kind', async () => {
    const response = await subscribe('?agent=a1&kind=agent.*,tool.called');
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    state('a1', 1);
    state('a2', 2);
    agentrix.events.emit('tool.called', {
      agentId: 'a1',
      threadId: 'main',
      turnId: 't',
      toolCall: { id: 'c', name: 'n', arguments: '{}' },
    });
    agentrix.events.emit('turn.started', { agentId: 'a1', threadId: 'main', turnId: 't', messageId: 'm', attempt: 1 });
    agentrix.events.emit('message.sent', { envelope: { to: 'a1', from: 'host' } as never });
    state('a1', 3);
    const messages = await readSse(response.body!, (seen) => seen.length >= 3);
    expect(messages.map((message) => [message.id, message.event])).toEqual([
      ['1', 'agent.state'],
      ['3', 'tool.called'],
      ['6', 'agent.state'],
    ]);
    expect(messages[0]!.data).toEqual({ agentId: 'a1', from: 'idle', to: 'running', at: 1 });
  });

  it('resumes after Last-Event-ID from the ring, and says reset when the id is gone', async () => {
    for (let n = 1; n <= 5; n++) state('a1', n);
    const resumed = await subscribe('', { 'last-event-id': '3' });
    const replay = await readSse(resumed.body!, (seen) => seen.length >= 2);
    expect(replay.map((message) => message.id)).toEqual(['4', '5']);

    for (let n = 6; n <= 20; n++) state('a1', n); // the ring keeps 8: ids 13-20
    const stale = await subscribe('?lastEventId=2');
    const afterReset = await readSse(stale.body!, (seen) => seen.length >= 9);
    expect(afterReset[0]).toEqual({ event: 'agentrix.reset', data: { lastEventId: 2, oldestId: 13 } });
    expect(afterReset.slice(1).map((message) => message.id)).toEqual(['13', '14', '15', '16', '17', '18', '19', '20']);

    const future = await subscribe('', { 'last-event-id': '999' });
    const [reset] = await readSse(future.body!, (seen) => seen.length >= 1);
    expect(reset!.event).toBe('agentrix.reset');

    const bad = await subscribe('', { 'last-event-id': 'abc' });
    expect(bad.status).toBe(400);
  });

  it('cuts a subscriber that does not read, with a notice naming the last event it was given', async () => {
    const response = await subscribe();
    expect(server.routes.length).toBeGreaterThan(0);
    // The stream takes its first chunk (the preamble); nobody reads after that.
    for (let n = 1; n <= 100; n++) state('a1', n);
    const text = await new Response(response.body).text();
    const messages = parseSse(text);
    const cut = messages.at(-1)!;
    expect(cut.event).toBe('agentrix.cut');
    expect(cut.data).toMatchObject({ reason: 'slow-subscriber', maxQueued: 16 });
    // It got at most the queue's worth before the cut, and the stream ended.
    expect(messages.length).toBeLessThanOrEqual(18);
    // The cut subscriber is gone: publishing goes on without it.
    state('a1', 101);
    const again = await subscribe('', { 'last-event-id': String((cut.data as { lastEventId: number }).lastEventId) });
    const resumed = await readSse(again.body!, (seen) => seen.length >= 1);
    expect(resumed[0]!.event).toBe('agentrix.reset'); // 100 events passed a ring of 8
    const stats = await call(server, 'GET', '/api/events/stats', { token: TOKEN });
    expect(stats.json).toEqual({ lastId: 101, oldestId: 94, subscribers: 0, cut: 1 }); // every stream read here is closed
  });

  it('lists recent events as JSON, accepts access_token on the stream only', async () => {
    state('a1', 1);
    state('a2', 2);
    const recent = await call(server, 'GET', '/api/events/recent?agent=a2', { token: TOKEN });
    expect(recent.json.events).toEqual([
      {
        id: 2,
        name: 'agent.state',
        at: expect.any(Number),
        data: { agentId: 'a2', from: 'idle', to: 'running', at: 2 },
      },
    ]);
    const byQuery = await server.fetch(new Request(`http://localhost/api/events?access_token=${TOKEN}`));
    expect(byQuery.status).toBe(200);
    await byQuery.body!.cancel();
    expect((await call(server, 'GET', `/api/events/recent?access_token=${TOKEN}`)).status).toBe(401);
  });

  it('close() ends open streams', async () => {
    const response = await subscribe();
    const reading = new Response(response.body).text();
    await server.close();
    expect(await reading).toContain('retry: 1000');
  });
});
