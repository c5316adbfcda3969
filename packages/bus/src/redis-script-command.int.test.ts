import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisScript } from './redis-client.js';
import { requireRedisUrl } from './redis-test-support.js';

describe('RedisScript on a Redis client: arguments built once and written as one buffer', () => {
  let client: Redis;
  beforeAll(async () => {
    client = new Redis(requireRedisUrl(), { enableAutoPipelining: false });
    // The first call loads ioredis's Command class (it goes through evalsha meanwhile).
    await new RedisScript('warm-up', 'return 1').run(client as never, [], []);
    // A tripwire: from here on the bus must not go through the client's own script methods.
    const refuse = () => Promise.reject(new Error('the client method was used instead of sendCommand'));
    Object.assign(client, { evalsha: refuse, eval: refuse });
  });
  afterAll(() => client?.quit());

  it('passes keys and arguments exactly: numbers as text, empty strings, multi-byte UTF-8, a large argument', async () => {
    const script = new RedisScript('echo', 'return {#KEYS, KEYS[1], ARGV[1], ARGV[2], ARGV[3], #ARGV[4], ARGV[5]}');
    const large = 'x'.repeat(70_000);
    const reply = await script.run(client as never, [`test-${randomUUID()}`], [42, '', 'héllo ✓ 😀', large, 'last']);
    expect(reply).toEqual([1, expect.stringMatching(/^test-/), '42', '', 'héllo ✓ 😀', 70_000, 'last']);
  });

  it('encodes every argument length exactly, at the short / long boundary and with multi-byte text', async () => {
    // Arguments up to 64 characters are copied by a loop when ASCII, longer or non-ASCII ones by Buffer.
    const args = [
      'a'.repeat(9),
      'b'.repeat(10),
      'c'.repeat(63),
      'd'.repeat(64),
      'e'.repeat(65),
      'é'.repeat(40),
      `${'f'.repeat(63)}é`,
      '😀',
      '\r\n$3\r\n',
      '0',
      ...Array.from({ length: 100 }, (_, index) => `x${index}`),
    ];
    const script = new RedisScript('echo-all', 'return ARGV');
    expect(await script.run(client as never, [], args)).toEqual(args);
  });

  it('leaves bulk strings as buffers when asked (the read batches: no copy of the reply to make strings)', async () => {
    const script = new RedisScript('nested', "return {ARGV[1], 7, {ARGV[2], ''}}");
    const reply = (await script.run(client as never, [], ['entry-0', 'héllo'], 'buffers')) as unknown[];
    expect(Buffer.isBuffer(reply[0])).toBe(true);
    expect(String(reply[0])).toBe('entry-0');
    expect(reply[1]).toBe(7);
    const inner = reply[2] as Buffer[];
    expect(inner.map((value) => Buffer.isBuffer(value))).toEqual([true, true]);
    expect(inner.map(String)).toEqual(['héllo', '']);
  });

  it('falls back to EVAL through the same path when Redis does not know the script (NOSCRIPT)', async () => {
    // A source Redis has never seen (a fresh comment makes a fresh sha).
    const script = new RedisScript('fresh', `-- ${randomUUID()}\nreturn ARGV[1] .. '!'`);
    expect(await script.run(client as never, [], ['ok'])).toBe('ok!');
  });

  it('rejects with the reply error of a failing script', async () => {
    const script = new RedisScript('failing', "return redis.call('INCR', KEYS[1])");
    const key = `test-${randomUUID()}`;
    await client.set(key, 'not a number');
    await expect(script.run(client as never, [key], [])).rejects.toThrow(/not an integer/);
    await client.del(key);
  });
});
