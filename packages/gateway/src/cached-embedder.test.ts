import { LLMock } from '@copilotkit/aimock';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCachedEmbedder } from './cached-embedder.js';
import { OpenAIProvider } from './openai-provider.js';

const mock = new LLMock({ port: 0 });
beforeAll(async () => {
  mock.onEmbedding('text', { embedding: [1, 0, 0] });
  await mock.start();
});
afterAll(async () => {
  await mock.stop();
});

it('embeds only texts it has not seen, against a real server', async () => {
  const provider = new OpenAIProvider({ apiKey: 'sk-test-embed', baseURL: `${mock.url}/v1`, embeddingDimensions: 3 });
  const embedder = createCachedEmbedder(provider);
  expect(await embedder.embed(['text a', 'text b', 'text a'])).toEqual([
    [1, 0, 0],
    [1, 0, 0],
    [1, 0, 0],
  ]);
  const before = mock.getRequests().length;
  await embedder.embed(['text b', 'text a']);
  expect(mock.getRequests().length).toBe(before);
  await embedder.embed(['text c']);
  expect(mock.getRequests().length).toBe(before + 1);
});
