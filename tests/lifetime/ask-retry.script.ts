// A plain host script: createAgentrix + ask with a model that fails once before answering. The
// process must stay alive through the runtime's retry backoff and print the reply.
import { AgentrixError } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';

const model = new MockLLM({
  script: [{ error: new AgentrixError('MODEL_ERROR', 'upstream 503', { retryAfterMs: 300 }) }, { text: 'pong' }],
});
await using agentrix = await createAgentrix({ model });
await agentrix.create({ id: 'a1', modelRetry: { attempts: 2, baseDelayMs: 300, maxDelayMs: 300 } });
const reply = await agentrix.ask('a1', 'ping');
console.log(`RESULT ${reply.content}`);
