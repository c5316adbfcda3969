/** The constant of reciprocal rank fusion (Cormack et al. 2009): score = Σ 1 / (k + rank). */
export const RRF_K = 60;

/**
 * Fuses ranked lists by reciprocal rank: each item scores Σ 1 / (RRF_K + rank) over the lists it
 * appears in (rank from 1), best first. Items are identified by `id`; the first copy is kept.
 */
export function reciprocalRankFusion<T>(
  lists: readonly (readonly T[])[],
  id: (item: T) => string,
): Array<T & { score: number }> {
  const scored = new Map<string, { item: T; score: number }>();
  for (const list of lists) {
    list.forEach((item, index) => {
      const key = id(item);
      const entry = scored.get(key);
      const score = 1 / (RRF_K + index + 1);
      if (entry) entry.score += score;
      else scored.set(key, { item, score });
    });
  }
  return [...scored.values()].sort((a, b) => b.score - a.score).map(({ item, score }) => ({ ...item, score }));
}
