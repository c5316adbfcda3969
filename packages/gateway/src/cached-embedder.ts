import type { CallScope, Embedder } from '@agentrix/core';
import { embeddingCacheKey } from './cache-key.js';
import { type CacheStore, InMemoryLruCache } from './cache-store.js';

export interface CachedEmbedderOptions {
  /** Default: an in-memory LRU of 10,000 vectors. */
  store?: CacheStore<number[]>;
  /** Default 7 days. */
  ttlMs?: number;
}

/**
 * An {@link Embedder} that embeds only the texts it has not seen (key: the embedder's name and
 * dimensions, and the text), in one batch, and answers the rest from the cache.
 */
export function createCachedEmbedder(embedder: Embedder, options: CachedEmbedderOptions = {}): Embedder {
  const store = options.store ?? new InMemoryLruCache<number[]>({ maxEntries: 10_000 });
  const ttlMs = options.ttlMs ?? 7 * 86_400_000;
  const identity = `${embedder.name}/${embedder.dimensions}`;
  return {
    name: embedder.name,
    dimensions: embedder.dimensions,
    async embed(texts: string[], embedOptions: { signal?: AbortSignal; scope?: CallScope } = {}) {
      const keys = texts.map((text) => embeddingCacheKey(identity, text));
      const found = await Promise.all(keys.map((key) => store.get(key)));
      const missing: number[] = [];
      for (let index = 0; index < texts.length; index++) if (!found[index]) missing.push(index);
      if (missing.length > 0) {
        const unique = [...new Set(missing.map((index) => texts[index]!))];
        const vectors = await embedder.embed(unique, embedOptions);
        const byText = new Map(unique.map((text, index) => [text, vectors[index]!]));
        await Promise.all(
          missing.map((index) => {
            const vector = byText.get(texts[index]!)!;
            found[index] = vector;
            return store.set(keys[index]!, vector, ttlMs);
          }),
        );
      }
      return found as number[][];
    },
  };
}
