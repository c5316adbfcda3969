import { FakeClock } from '@agentrix/testing';
import { expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.js';

it('spaces messages per chat (private 1 s, group 3 s) and globally, and honours a pause', async () => {
  const clock = new FakeClock(0);
  const limiter = new RateLimiter({ globalPerSecond: 10 }, clock);
  const done: string[] = [];
  const send = (chat: number, name: string) => limiter.acquire(chat).then(() => done.push(`${name}@${clock.now()}`));
  const all = Promise.all([send(7, 'a1'), send(7, 'a2'), send(8, 'b1'), send(-100, 'g1'), send(-100, 'g2')]);
  await clock.advance(10_000);
  await all;
  expect(done.sort()).toEqual(['a1@0', 'a2@1000', 'b1@100', 'g1@200', 'g2@3000'].sort());
  limiter.pause(7, clock.now() + 5_000);
  const later = send(7, 'a3');
  await clock.advance(4_999);
  expect(done).not.toContain('a3@15000');
  await clock.advance(1);
  await later;
  expect(done).toContain('a3@15000');
});
