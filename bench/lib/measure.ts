import { hrtime } from 'node:process';

export interface LatencyOptions {
  /** Runs before sampling starts, to let the JIT settle. */
  warmup: number;
  samples: number;
}

/**
 * Runs `run` sequentially, `warmup` times unmeasured and then `samples` times, each timed
 * alone with `process.hrtime.bigint()`. Returns the samples in microseconds.
 */
export async function sampleLatency(run: () => Promise<unknown>, options: LatencyOptions): Promise<Float64Array> {
  for (let i = 0; i < options.warmup; i++) await run();
  const samples = new Float64Array(options.samples);
  for (let i = 0; i < options.samples; i++) {
    const started = hrtime.bigint();
    await run();
    samples[i] = Number(hrtime.bigint() - started) / 1_000;
  }
  return samples;
}

export interface ThroughputOptions {
  /** Chains of runs kept going at once: each starts its next run when its last one ends. */
  concurrency: number;
  durationMs: number;
  /** Unmeasured time first. Default 250 ms. */
  warmupMs?: number;
}

/**
 * Keeps `concurrency` chains of `run` going for `durationMs` and returns completed runs per
 * second. Each chain checks the clock itself: runs that only chain promises never yield to
 * the timer queue, so a `setTimeout` would not fire until they stop.
 */
export async function measureThroughput(run: () => Promise<unknown>, options: ThroughputOptions): Promise<number> {
  const go = async (durationMs: number): Promise<{ runs: number; seconds: number }> => {
    const started = performance.now();
    const deadline = started + durationMs;
    let runs = 0;
    const chain = async () => {
      while (performance.now() < deadline) {
        await run();
        runs++;
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, chain));
    return { runs, seconds: (performance.now() - started) / 1_000 };
  };
  await go(options.warmupMs ?? 250);
  const { runs, seconds } = await go(options.durationMs);
  return runs / seconds;
}

/** Full collections until the heap stops shrinking (needs `--expose-gc`). */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('Run with node --expose-gc (see bench/README.md)');
  for (let i = 0; i < 3; i++) gc();
}

/** Yields to the event loop (timers and I/O included) for `ms`. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
