/** Milliseconds on the system-wide monotonic clock (CLOCK_MONOTONIC): comparable across processes of one machine. */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1000 + nanoseconds / 1e6;
}
