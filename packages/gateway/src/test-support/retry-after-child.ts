// A plain host script, run by retry-wait.test.ts in a child process: one top-level `await` on a
// gateway call and nothing else that keeps Node alive (no server, no interval). The provider
// answers 429 with `retry-after: 1` first, so the call waits a second inside the gateway: that
// wait alone must keep the process running until the answer comes.
//
//   FIXTURE_BASE_URL=http://127.0.0.1:<port>/v1 node --conditions=agentrix-source --import tsx retry-after-child.ts
import { createGateway, OpenAIProvider } from '../index.js';

const baseURL = process.env.FIXTURE_BASE_URL;
if (!baseURL) throw new Error('set FIXTURE_BASE_URL');

const gateway = createGateway({
  provider: new OpenAIProvider({ apiKey: 'test-key', baseURL }),
  models: { 'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 1_000 } },
  tiers: { small: 'test-small' },
});
const answer = await gateway.generate({ messages: [{ role: 'user', content: 'hello' }] });
console.log(`ANSWER ${answer.message.content}`);
await gateway.close();
