// `@agentrix/gateway/testing`: the `BudgetStore` contract suite every budget store runs (in
// memory, Redis, SQL; a third-party store can run it too), and a small OpenAI-compatible fixture
// server for tests that need exact replies, status codes and headers from a real HTTP endpoint.
export { budgetStoreContract } from '../budget-store.contract.js';
export {
  chunk,
  completion,
  embeddings,
  type FixtureReply,
  type FixtureServer,
  incorrectApiKey,
  startFixtureServer,
  usageChunk,
} from '../test-support/openai-fixture-server.js';
