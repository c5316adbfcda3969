import { type Clock, sleep } from '@agentrix/core';

export interface TelegramLimits {
  /** Messages per second to all chats together. Default 30 (Telegram's documented bulk limit). */
  globalPerSecond?: number;
  /** Least time between two messages to one private chat. Default 1,000 ms ("about one message per second"). */
  privateChatIntervalMs?: number;
  /** Least time between two messages to one group. Default 3,000 ms (Telegram allows 20 a minute in a group). */
  groupChatIntervalMs?: number;
}

/**
 * Spaces the messages the bot sends, per chat and globally, so Telegram rarely has to answer 429:
 * a send waits for its chat's next slot (after the chat's previous message), then for the next
 * global slot. Slots are handed out in call order.
 */
export class RateLimiter {
  readonly #clock: Clock;
  readonly #globalGapMs: number;
  readonly #privateGapMs: number;
  readonly #groupGapMs: number;
  #nextGlobal = 0;
  readonly #nextByChat = new Map<number | string, number>();

  constructor(limits: TelegramLimits, clock: Clock) {
    this.#clock = clock;
    this.#globalGapMs = 1000 / (limits.globalPerSecond ?? 30);
    this.#privateGapMs = limits.privateChatIntervalMs ?? 1000;
    this.#groupGapMs = limits.groupChatIntervalMs ?? 3000;
  }

  /** Waits for the next slot of `chatId` (a negative id is a group or channel), then for a global one. */
  async acquire(chatId: number | string, signal?: AbortSignal): Promise<void> {
    const options = { clock: this.#clock, ...(signal ? { signal } : {}) };
    const now = this.#clock.now();
    const chatSlot = Math.max(now, this.#nextByChat.get(chatId) ?? 0);
    const isGroup = typeof chatId === 'string' || chatId < 0;
    this.#nextByChat.set(chatId, chatSlot + (isGroup ? this.#groupGapMs : this.#privateGapMs));
    if (this.#nextByChat.size > 10_000) this.#forgetPast(now);
    if (chatSlot > now) await sleep(chatSlot - now, options);
    // The global slot is taken only once the chat's turn has come, so a chat that must wait never
    // holds back the others.
    const ready = this.#clock.now();
    const globalSlot = Math.max(ready, this.#nextGlobal);
    this.#nextGlobal = globalSlot + this.#globalGapMs;
    if (globalSlot > ready) await sleep(globalSlot - ready, options);
  }

  /** Telegram said to wait (429 `retry_after`): no message to that chat before then. */
  pause(chatId: number | string, untilMs: number): void {
    this.#nextByChat.set(chatId, Math.max(this.#nextByChat.get(chatId) ?? 0, untilMs));
  }

  #forgetPast(now: number): void {
    for (const [chat, next] of this.#nextByChat) if (next <= now) this.#nextByChat.delete(chat);
  }
}
