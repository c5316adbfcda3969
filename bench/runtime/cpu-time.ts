import { cpuUsage } from 'node:process';

/**
 * Runs `measure` with `run` counted and returns what it returns, plus the process's CPU time
 * (user + system, every thread: the garbage collector's helpers included) per run, in µs. On a
 * shared machine wall time waits for other programs; CPU time per run does much less.
 * Warm-up runs are counted like the rest: CPU time and runs cover the same span.
 */
export async function withCpuTime<T>(
  run: () => Promise<unknown>,
  measure: (counted: () => Promise<unknown>) => Promise<T>,
): Promise<{ result: T; cpuUs: number }> {
  let runs = 0;
  const counted = () => {
    runs++;
    return run();
  };
  const before = cpuUsage();
  const result = await measure(counted);
  const used = cpuUsage(before);
  return { result, cpuUs: (used.user + used.system) / runs };
}
