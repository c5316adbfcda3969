import type { CallScope, Embedder } from '@agentrix/core';
import { embeddingCacheKey } from './cache-key.js';
import { type CacheStore, InMemoryLruCache } from './cache-store.js';

export interface CachedEmbedderOptions {
  /** Default: an in-memory LRU of 10,000 vectors. A `RedisCache` keeps vectors across restarts. */
  store?: CacheStore<number[]>;
  /** Default 7 days. */
  ttlMs?: number;
}

/**
 * An {@link Embedder} that embeds only the texts it has not seen (key: the embedder's name and
 * dimensions, and the text), in one batch, and answers the rest from the cache. A text already
 * on its way to the embedder for a concurrent call is waited for, not sent again.
 */
export function createCachedEmbedder(embedder: Embedder, options: CachedEmbedderOptions = {}): Embedder {
  const store = options.store ?? new InMemoryLruCache<number[]>({ maxEntries: 10_000 });
  const ttlMs = options.ttlMs ?? 7 * 86_400_000;
  const identity = `${embedder.name}/${embedder.dimensions}`;
  /** Vectors being embedded right now, by cache key. */
  const inFlight = new Map<string, Promise<number[]>>();
  return {
    name: embedder.name,
    dimensions: embedder.dimensions,
    async embed(texts: string[], embedOptions: { signal?: AbortSignal; scope?: CallScope } = {}) {
      const keys = texts.map((text) => embeddingCacheKey(identity, text));
      // Taken before the first await, so a text another call is embedding is waited for.
      const pending = new Map<string, Promise<number[]>>();
      for (const key of keys) {
        const running = inFlight.get(key);
        if (running) pending.set(key, running);
      }
      const found: (number[] | undefined)[] = await Promise.all(
        keys.map((key) => (pending.has(key) ? undefined : store.get(key))),
      );
      const mine = new Map<string, string>();
      for (let index = 0; index < texts.length; index++) {
        const key = keys[index]!;
        if (found[index] || pending.has(key) || mine.has(key)) continue;
        const running = inFlight.get(key);
        if (running) pending.set(key, running);
        else mine.set(key, texts[index]!);
      }
      if (mine.size > 0) {
        const unique = [...mine.keys()];
        const batch = (async () => {
          const vectors = await embedder.embed(
            unique.map((key) => mine.get(key)!),
            embedOptions,
          );
          await Promise.all(unique.map((key, index) => store.set(key, vectors[index]!, ttlMs)));
          return vectors;
        })();
        unique.forEach((key, index) => {
          const vector = batch.then((vectors) => vectors[index]!);
          pending.set(key, vector);
          inFlight.set(key, vector);
          const done = () => {
            if (inFlight.get(key) === vector) inFlight.delete(key);
          };
          vector.then(done, done);
        });
      }
      await Promise.all(
        keys.map(async (key, index) => {
          if (!found[index]) found[index] = await pending.get(key)!;
        }),
      );
      return found as number[][];
    },
  };
}
