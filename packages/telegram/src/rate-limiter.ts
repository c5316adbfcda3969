import { type Clock, sleep } from '@agentrix/core';

export interface TelegramLimits {
  /** Messages per second to all chats together. Default 30 (Telegram's documented bulk limit). */
  globalPerSecond?: number;
  /** Least time between two messages to one private chat. Default 1,000 ms ("about one message per second"). */
  privateChatIntervalMs?: number;
  /** Least time between two messages to one group. Default 3,000 ms (Telegram allows 20 a minute in a group). */
  groupChatIntervalMs?: number;
}

/** One chat's queue: the calls waiting for it, and when the next may be sent. */
interface ChatQueue {
  /** Settles when the last call queued for the chat has released it. */
  tail: Promise<void>;
  /** No call to the chat before this time: the previous call's answer plus the gap, or a 429's end. */
  nextAt: number;
  holders: number;
}

/**
 * The turn of one call to one chat (see {@link RateLimiter.acquire}): wait for `ready()` before
 * each attempt, call `sent()` when Telegram has answered it, `release()` when done.
 */
export interface ChatTurn {
  ready(signal?: AbortSignal): Promise<void>;
  sent(): void;
  /** Telegram said to wait (429 `retry_after`): no message to this chat before `untilMs`. */
  pause(untilMs: number): void;
  release(): void;
}

/**
 * Spaces the messages the bot sends, per chat and globally, so Telegram rarely has to answer 429.
 * One call per chat at a time, in call order; the gap to the chat's next call is counted from
 * when Telegram answered the previous one (not from when it was queued: a call held back by the
 * global limit or a slow network would otherwise let the next one follow too closely). Then
 * each send takes a global slot (30 a second).
 */
export class RateLimiter {
  readonly #clock: Clock;
  readonly #globalGapMs: number;
  readonly #privateGapMs: number;
  readonly #groupGapMs: number;
  #nextGlobal = 0;
  readonly #chats = new Map<number | string, ChatQueue>();

  constructor(limits: TelegramLimits, clock: Clock) {
    this.#clock = clock;
    this.#globalGapMs = 1000 / (limits.globalPerSecond ?? 30);
    this.#privateGapMs = limits.privateChatIntervalMs ?? 1000;
    this.#groupGapMs = limits.groupChatIntervalMs ?? 3000;
  }

  /** Waits for the chat's turn (its previous calls released). A negative id is a group or channel. */
  async acquire(chatId: number | string, signal?: AbortSignal): Promise<ChatTurn> {
    const chat = this.#queueOf(chatId);
    const gapMs = typeof chatId === 'string' || chatId < 0 ? this.#groupGapMs : this.#privateGapMs;
    const previous = chat.tail;
    let releaseTail!: () => void;
    const released = new Promise<void>((resolve) => {
      releaseTail = resolve;
    });
    chat.tail = previous.then(() => released);
    chat.holders++;
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      chat.holders--;
      releaseTail();
    };
    try {
      await waitFor(previous, signal);
    } catch (error) {
      release();
      throw error;
    }
    return {
      ready: (readySignal = signal) => this.#ready(chat, readySignal),
      sent: () => {
        chat.nextAt = Math.max(chat.nextAt, this.#clock.now() + gapMs);
      },
      pause: (untilMs) => {
        chat.nextAt = Math.max(chat.nextAt, untilMs);
      },
      release,
    };
  }

  /** Waits for the chat's next slot, then for a global one (taken only now: a waiting chat holds back no other). */
  async #ready(chat: ChatQueue, signal: AbortSignal | undefined): Promise<void> {
    const options = { clock: this.#clock, ...(signal ? { signal } : {}) };
    for (let now = this.#clock.now(); now < chat.nextAt; now = this.#clock.now()) {
      await sleep(chat.nextAt - now, options);
    }
    const ready = this.#clock.now();
    const globalSlot = Math.max(ready, this.#nextGlobal);
    this.#nextGlobal = globalSlot + this.#globalGapMs;
    if (globalSlot > ready) await sleep(globalSlot - ready, options);
  }

  #queueOf(chatId: number | string): ChatQueue {
    let chat = this.#chats.get(chatId);
    if (chat === undefined) {
      if (this.#chats.size >= 10_000) this.#forgetIdle();
      chat = { tail: Promise.resolve(), nextAt: 0, holders: 0 };
      this.#chats.set(chatId, chat);
    }
    return chat;
  }

  /** Chats with no call waiting whose gap is over are forgotten (they would wait for nothing). */
  #forgetIdle(): void {
    const now = this.#clock.now();
    for (const [id, chat] of this.#chats) if (chat.holders === 0 && chat.nextAt <= now) this.#chats.delete(id);
  }
}

/** `promise`, or the signal's abort, whichever comes first (`promise` never rejects). */
function waitFor(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
