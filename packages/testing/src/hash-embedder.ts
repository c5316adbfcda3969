import { AgentrixError, type Embedder } from '@agentrix/core';

/**
 * A bag-of-words vector: each word (a run of lower-case letters and digits) hashed into one of
 * `dimensions`, plus a small constant in the last one so no vector is all zeros. Texts that share
 * words are near by cosine; the same text gives the same vector in every process.
 */
export function hashVector(text: string, dimensions = 64): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let hash = 0;
    for (const char of word) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
    vector[hash % dimensions]! += 1;
  }
  vector[dimensions - 1]! += 0.01;
  return vector;
}

export interface HashEmbedderOptions {
  /** Default 64. */
  dimensions?: number;
  /** Called before each call: `true` makes that call fail (an embedder outage). */
  fail?: () => boolean;
}

/**
 * A deterministic {@link Embedder} for tests and benchmarks, standing in for a model: each text
 * is its {@link hashVector}. It counts its calls (`calls`, as `MockLLM` does); with `fail`, a
 * call throws an `AgentrixError` with code `MODEL_ERROR`.
 */
export class HashEmbedder implements Embedder {
  readonly name: string;
  readonly dimensions: number;
  #calls = 0;
  readonly #fail: (() => boolean) | undefined;

  constructor(options: HashEmbedderOptions = {}) {
    this.dimensions = options.dimensions ?? 64;
    if (!Number.isInteger(this.dimensions) || this.dimensions < 2) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `HashEmbedder: dimensions must be an integer >= 2, got ${options.dimensions}`,
      );
    }
    this.name = `hash-${this.dimensions}`;
    this.#fail = options.fail;
  }

  /** Calls to `embed` so far, failed ones too. */
  get calls(): number {
    return this.#calls;
  }

  async embed(texts: string[]): Promise<number[][]> {
    this.#calls++;
    if (this.#fail?.()) throw new AgentrixError('MODEL_ERROR', 'HashEmbedder: failing as asked (options.fail)');
    return texts.map((text) => hashVector(text, this.dimensions));
  }
}
