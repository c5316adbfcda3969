// A plain host script (run by no-silent-exit.test.ts): top-level await, nothing else keeping Node
// alive. The model fails once with a rate limit that says "retry after 300 ms", then answers.
// The runtime's retry wait is the only pending timer: the script must not exit inside it.
import { AgentrixError } from '@agentrix/core';
import { runTurn } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';

const model = new MockLLM({
  script: [
    { error: new AgentrixError('RATE_LIMITED', 'slow down', { retryAfterMs: 300 }) },
    { text: 'answered after the retry' },
  ],
});
const result = await runTurn({
  model,
  messages: [{ role: 'user', content: 'hi' }],
  modelRetry: { attempts: 2, baseDelayMs: 300, maxDelayMs: 300 },
});
console.log(`RESULT ${result.reply}`);
