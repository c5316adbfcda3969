import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Smoke test of the real Redis that `scripts/with-services.mjs` provides (REDIS_URL).
const url = process.env.REDIS_URL;

describe('redis service', () => {
  let redis: Redis;
  const keys: string[] = [];

  beforeAll(() => {
    if (!url) {
      throw new Error('REDIS_URL is not set: run the tests through `pnpm test` (scripts/with-services.mjs)');
    }
    redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  });

  afterAll(async () => {
    if (!redis) return;
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('answers PING and is at least 6.2', async () => {
    await redis.connect();
    expect(await redis.ping()).toBe('PONG');
    const info = await redis.info('server');
    const version = /redis_version:(\d+)\.(\d+)/.exec(info);
    expect(version).not.toBeNull();
    const [major, minor] = [Number(version![1]), Number(version![2])];
    expect(major * 100 + minor).toBeGreaterThanOrEqual(602);
  });

  it('round-trips a stream entry through a consumer group, then XAUTOCLAIMs a pending one', async () => {
    const key = `test-${randomUUID()}`;
    keys.push(key);
    const group = 'workers';

    await redis.xgroup('CREATE', key, group, '$', 'MKSTREAM');
    const id1 = await redis.xadd(key, '*', 'body', 'first');
    expect(id1).toMatch(/^\d+-\d+$/);

    const read = (await redis.xreadgroup('GROUP', group, 'c1', 'COUNT', 10, 'STREAMS', key, '>')) as
      | [string, [string, string[]][]][]
      | null;
    expect(read).not.toBeNull();
    const [stream, entries] = read![0]!;
    expect(stream).toBe(key);
    expect(entries).toEqual([[id1, ['body', 'first']]]);
    expect(await redis.xack(key, group, id1!)).toBe(1);

    // A second entry read by c1 and never acknowledged is claimed by c2.
    const id2 = await redis.xadd(key, '*', 'body', 'second');
    await redis.xreadgroup('GROUP', group, 'c1', 'COUNT', 10, 'STREAMS', key, '>');
    const pending = (await redis.xpending(key, group)) as [number, string, string, [string, string][]];
    expect(pending[0]).toBe(1);

    const claimed = (await redis.xautoclaim(key, group, 'c2', 0, '0-0', 'COUNT', 10)) as [
      string,
      [string, string[]][],
      string[]?,
    ];
    expect(claimed[1]).toEqual([[id2, ['body', 'second']]]);
    const detail = (await redis.xpending(key, group, '-', '+', 10)) as [string, string, number, number][];
    expect(detail).toHaveLength(1);
    expect(detail[0]![0]).toBe(id2);
    expect(detail[0]![1]).toBe('c2');
    expect(await redis.xack(key, group, id2!)).toBe(1);
    expect(((await redis.xpending(key, group)) as [number])[0]).toBe(0);
  });
});
