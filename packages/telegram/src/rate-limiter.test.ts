import { FakeClock } from '@agentrix/testing';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.js';

/** One Bot API call through the limiter that Telegram takes `latencyMs` to answer; records when it was sent. */
async function call(limiter: RateLimiter, clock: FakeClock, chat: number, log: string[], name: string, latencyMs = 0) {
  const turn = await limiter.acquire(chat);
  try {
    await turn.ready();
    log.push(`${name}@${clock.now()}`);
    if (latencyMs > 0) await new Promise<void>((resolve) => clock.setTimeout(resolve, latencyMs));
    turn.sent();
  } finally {
    turn.release();
  }
}

describe('RateLimiter', () => {
  it('spaces messages per chat (private 1 s, group 3 s) and globally, and honours a pause', async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ globalPerSecond: 10 }, clock);
    const done: string[] = [];
    const send = (chat: number, name: string) => call(limiter, clock, chat, done, name);
    const all = Promise.all([send(7, 'a1'), send(7, 'a2'), send(8, 'b1'), send(-100, 'g1'), send(-100, 'g2')]);
    await clock.advance(10_000);
    await all;
    expect(done.sort()).toEqual(['a1@0', 'a2@1000', 'b1@100', 'g1@200', 'g2@3200'].sort());
    const turn = await limiter.acquire(7);
    turn.pause(clock.now() + 5_000);
    turn.release();
    const later = send(7, 'a3');
    await clock.advance(4_999);
    expect(done).not.toContain('a3@15000');
    await clock.advance(1);
    await later;
    expect(done).toContain('a3@15000');
  });

  it('counts the gap from the send, not from the queued slot: a send held back by the global limit still leaves a full gap', async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ globalPerSecond: 2 }, clock);
    const done: string[] = [];
    // Three other chats take the global slots at 0, 500 and 1000 ms: chat 7's first message goes at 1500.
    const first = Promise.all([8, 9, 10, 7].map((chat) => call(limiter, clock, chat, done, `c${chat}`)));
    await clock.advance(1600);
    await first;
    expect(done).toContain('c7@1500');
    const second = call(limiter, clock, 7, done, 'again');
    await clock.advance(5_000);
    await second;
    // Counted from the queued slot (0 ms) it went at 1600, 100 ms after the first: Telegram's 1 s per chat broken.
    expect(done).toContain('again@2500');
  });

  it("counts the gap from Telegram's answer, and sends one call per chat at a time, in order", async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({ groupChatIntervalMs: 3_000 }, clock);
    const done: string[] = [];
    const all = Promise.all([
      call(limiter, clock, -5, done, 'slow', 2_000),
      call(limiter, clock, -5, done, 'next'),
      call(limiter, clock, -5, done, 'last'),
    ]);
    await clock.advance(20_000);
    await all;
    expect(done).toEqual(['slow@0', 'next@5000', 'last@8000']);
  });

  it('an aborted wait gives the chat back to the calls behind it', async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter({}, clock);
    const holder = await limiter.acquire(7);
    const abort = new AbortController();
    const waiting = limiter.acquire(7, abort.signal);
    const done: string[] = [];
    const behind = call(limiter, clock, 7, done, 'behind');
    abort.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    holder.sent();
    holder.release();
    await clock.advance(1_000);
    await behind;
    expect(done).toEqual(['behind@1000']);
  });
});
