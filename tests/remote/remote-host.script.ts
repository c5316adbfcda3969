// Another process hosting agents on a shared Redis bus and a shared Postgres registry (run by
// remote-agents.int.test.ts). It prints READY once its agents run, and closes on SIGTERM.
import { createRedisBus } from '@agentrix/bus';
import { AgentrixError } from '@agentrix/core';
import { AgentManager } from '@agentrix/runtime';
import { createAgentrixStore } from '@agentrix/store';
import { MockLLM } from '@agentrix/testing';

const { REDIS_URL, DATABASE_URL, TEST_NAMESPACE, TEST_SCHEMA } = process.env;
const store = await createAgentrixStore({ url: DATABASE_URL!, schema: TEST_SCHEMA! });
const bus = await createRedisBus({ url: REDIS_URL!, namespace: TEST_NAMESPACE!, maxDeliveries: 1 });
const model = new MockLLM({
  fallback: (request) => {
    const content = String(request.messages.at(-1)?.content ?? '');
    if (content.includes('fail'))
      return { error: new AgentrixError('PROVIDER_BAD_REQUEST', 'the provider refused this') };
    return { text: `remote says: ${content}` };
  },
});
const agentrix = new AgentManager({
  bus,
  registry: store.registry,
  contextStore: store.contexts,
  model,
  consumer: 'remote-host',
});
await agentrix.create({ id: 'remote', modelRetry: { attempts: 1 } });
console.log('READY');
process.once('SIGTERM', async () => {
  await agentrix.close();
  await bus.close();
  await store.close();
  console.log('CLOSED');
});
