import { describe, expect, it } from 'vitest';
import { HashEmbedder, hashVector } from './hash-embedder.js';

const cosine = (a: number[], b: number[]) => {
  const dot = a.reduce((sum, value, index) => sum + value * b[index]!, 0);
  const norm = (v: number[]) => Math.sqrt(v.reduce((sum, value) => sum + value * value, 0));
  return dot / (norm(a) * norm(b));
};

describe('HashEmbedder', () => {
  it('embeds each text as the same bag-of-words vector every time, nearer for shared words', async () => {
    const embedder = new HashEmbedder();
    expect(embedder.dimensions).toBe(64);
    expect(embedder.name).toBe('hash-64');
    const [pottery, again, kiln, weather] = await embedder.embed([
      'Ana fired a blue vase in the kiln',
      'Ana fired a blue vase in the kiln',
      'the kiln fired the vase',
      'rain all afternoon',
    ]);
    expect(again).toEqual(pottery);
    expect(pottery).toHaveLength(64);
    expect(cosine(pottery!, kiln!)).toBeGreaterThan(cosine(pottery!, weather!));
    // No text gives an all-zero vector (a cosine of it would be NaN).
    expect(hashVector('', 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 0.01]);
    expect(embedder.calls).toBe(1);
  });

  it('fails a call when asked, counts it, and rejects bad dimensions', async () => {
    let failing = true;
    const embedder = new HashEmbedder({ dimensions: 16, fail: () => failing });
    await expect(embedder.embed(['x'])).rejects.toMatchObject({ code: 'MODEL_ERROR' });
    failing = false;
    expect((await embedder.embed(['x']))[0]).toHaveLength(16);
    expect(embedder.calls).toBe(2);
    expect(() => new HashEmbedder({ dimensions: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
