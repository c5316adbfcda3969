import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REDIS_SERVER_BIN } from './redis-server.js';

/**
 * `redis-benchmark -n 200000 -c 50 [-P pipeline] XADD <key> * f v` against the bench's Redis:
 * requests per second, or NaN when redis-benchmark is missing.
 */
export function redisBenchmarkXadd(host: string, port: number, pipeline: number, key: string): number {
  const bin = path.join(path.dirname(REDIS_SERVER_BIN), 'redis-benchmark');
  const args = ['-h', host, '-p', String(port), '-n', '200000', '-c', '50', '-q'];
  if (pipeline > 1) args.push('-P', String(pipeline));
  args.push('XADD', key, '*', 'f', 'v');
  const result = spawnSync(bin, args, { encoding: 'utf8', timeout: 120_000 });
  // -q prints "XADD <key> * f v: 78125.00 requests per second, p50=0.335 msec" (with \r progress lines).
  const match = /([\d.]+) requests per second/.exec(result.stdout ?? '');
  return match ? Number(match[1]) : Number.NaN;
}
