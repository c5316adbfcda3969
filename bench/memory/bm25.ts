// The baseline: plain BM25 (k1 1.2, b 0.75) over single turns, in process, no stemming, a short
// stop-word list; the best turns fill the budget as `(date) Name: text` lines.

const STOP_WORDS = new Set(
  'a an and are as at be but by did do does for from had has have he her his how i in is it its me my of on or she so that the their them they this to was we were what when where which who why will with would you your'.split(
    ' ',
  ),
);

export function words(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []).filter((word) => !STOP_WORDS.has(word));
}

export class Bm25Index<T> {
  readonly #documents: Array<{ item: T; counts: Map<string, number>; length: number }> = [];
  readonly #frequency = new Map<string, number>();
  #totalLength = 0;

  add(item: T, text: string): void {
    const counts = new Map<string, number>();
    const list = words(text);
    for (const word of list) counts.set(word, (counts.get(word) ?? 0) + 1);
    for (const word of counts.keys()) this.#frequency.set(word, (this.#frequency.get(word) ?? 0) + 1);
    this.#documents.push({ item, counts, length: list.length });
    this.#totalLength += list.length;
  }

  /** Every document with a query word, best first. */
  search(query: string): T[] {
    const terms = [...new Set(words(query))];
    const total = this.#documents.length;
    const average = this.#totalLength / Math.max(1, total);
    const scored: Array<{ item: T; score: number }> = [];
    for (const document of this.#documents) {
      let score = 0;
      for (const term of terms) {
        const count = document.counts.get(term);
        if (!count) continue;
        const frequency = this.#frequency.get(term)!;
        const idf = Math.log(1 + (total - frequency + 0.5) / (frequency + 0.5));
        score += (idf * count * 2.2) / (count + 1.2 * (0.25 + (0.75 * document.length) / average));
      }
      if (score > 0) scored.push({ item: document.item, score });
    }
    return scored.sort((a, b) => b.score - a.score).map(({ item }) => item);
  }
}
