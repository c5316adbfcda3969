export { FakeClock } from './fake-clock.js';
export type { HashEmbedderOptions } from './hash-embedder.js';
export { HashEmbedder, hashVector } from './hash-embedder.js';
export type {
  MockErrorStep,
  MockLLMOptions,
  MockRequest,
  MockResponder,
  MockStep,
  MockTextStep,
  MockToolCall,
  MockToolCallsStep,
} from './mock-llm.js';
export { MockLLM } from './mock-llm.js';
export type { RecordedEvent, TestHarness, TestHarnessOptions } from './test-harness.js';
export { createTestHarness } from './test-harness.js';
