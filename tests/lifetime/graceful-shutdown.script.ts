// A host with one agent on a shared Redis bus, a stable consumer name and the graceful shutdown
// handler (run by graceful-shutdown.int.test.ts). The model answers "quick" after 200 ms and
// "slow" after SLOW_MS; it prints "TURN <content>" when a turn reaches it. Prints READY.
import { createAgentrix, stableConsumerName } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';

const { REDIS_URL, TEST_NAMESPACE, CONSUMER_NAME, SLOW_MS } = process.env;
const agentrix = await createAgentrix({
  bus: { url: REDIS_URL!, namespace: TEST_NAMESPACE! },
  model: new MockLLM({
    fallback: async (request) => {
      const content = String(request.messages.at(-1)?.content ?? '');
      console.log(`TURN ${content}`);
      await new Promise((resolve) => setTimeout(resolve, content === 'slow' ? Number(SLOW_MS) : 200));
      return { text: `${CONSUMER_NAME} did ${content}` };
    },
  }),
  consumer: stableConsumerName(CONSUMER_NAME!),
  shutdown: { timeoutMs: 500 },
});
await agentrix.create({ id: 'worker', modelRetry: { attempts: 1 } });
console.log('READY');
