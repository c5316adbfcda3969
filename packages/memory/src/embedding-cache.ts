import type { CallScope, Embedder } from '@agentrix/core';

/**
 * Embeds each distinct text once: results are kept in a bounded LRU map keyed by text, and the
 * texts of one call that are not cached go to the embedder in a single batch.
 */
export class EmbeddingCache {
  readonly embedder: Embedder;
  readonly #max: number;
  readonly #cache = new Map<string, number[]>();
  /** Texts sent to the embedder so far (cache misses). */
  embedded = 0;

  constructor(embedder: Embedder, maxEntries = 10_000) {
    this.embedder = embedder;
    this.#max = maxEntries;
  }

  async embed(
    texts: readonly string[],
    options: { signal?: AbortSignal; scope?: CallScope } = {},
  ): Promise<number[][]> {
    const missing = [...new Set(texts.filter((text) => !this.#cache.has(text)))];
    if (missing.length > 0) {
      const vectors = await this.embedder.embed(missing, options);
      if (vectors.length !== missing.length) {
        throw new Error(
          `Embedder ${this.embedder.name} returned ${vectors.length} vectors for ${missing.length} texts`,
        );
      }
      this.embedded += missing.length;
      for (const [index, text] of missing.entries()) this.#set(text, vectors[index]!);
    }
    return texts.map((text) => {
      const vector = this.#cache.get(text)!;
      // Refresh its place in the LRU order.
      this.#cache.delete(text);
      this.#cache.set(text, vector);
      return vector;
    });
  }

  #set(text: string, vector: number[]): void {
    this.#cache.set(text, vector);
    if (this.#cache.size > this.#max) this.#cache.delete(this.#cache.keys().next().value as string);
  }
}
