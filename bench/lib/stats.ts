/** Summary of latency samples, in the unit they were taken in. */
export interface Summary {
  count: number;
  min: number;
  median: number;
  p99: number;
  max: number;
  mean: number;
}

/** Sorts a copy of `samples` and reads the percentiles from it (nearest rank). */
export function summarize(samples: Float64Array): Summary {
  const sorted = samples.slice().sort();
  const count = sorted.length;
  if (count === 0)
    return { count, min: Number.NaN, median: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count,
    min: sorted[0]!,
    median: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[count - 1]!,
    mean: sum / count,
  };
}

/** Nearest-rank percentile of an already sorted array; `q` in [0, 1]. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}
