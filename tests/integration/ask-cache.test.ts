import { createGateway } from '@agentrix/gateway';
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';

// Issue 12, item 13: the response cache works for ask() (each ask used to carry a random
// `name: host:<uuid>`, so it never hit) and never crosses users.
describe('the response cache behind ask()', () => {
  it('answers a repeated question from the cache, and keeps users apart', async () => {
    const provider = new MockLLM({ fallback: (request) => ({ text: `answer #${request.messages.length}` }) });
    const gateway = createGateway({ provider, cache: {} });
    await using agentrix = await createAgentrix({ model: gateway });
    const spec = { instructions: 'Answer briefly.', maxHistory: 0 };
    await agentrix.create({ id: 'ada', ...spec, scope: { userId: 'ada' } });
    await agentrix.create({ id: 'ada-too', ...spec, scope: { userId: 'ada' } });
    await agentrix.create({ id: 'bob', ...spec, scope: { userId: 'bob' } });
    const hits: string[] = [];
    gateway.events.on('cache.hit', (event) => hits.push(event.scope.agentId ?? '?'));

    await agentrix.ask('ada', 'What is the capital of Norway?');
    await agentrix.ask('ada', 'What is the capital of Norway?');
    await agentrix.ask('ada-too', 'What is the capital of Norway?');
    expect(provider.calls).toBe(1);
    expect(hits).toEqual(['ada', 'ada-too']);
    // Another user asks the same: the provider answers, not ada's cache entry.
    await agentrix.ask('bob', 'What is the capital of Norway?');
    expect(provider.calls).toBe(2);
    await gateway.close();
  });
});
