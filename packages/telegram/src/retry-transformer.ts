import { backoffDelay, type Clock, type RetryPolicy, sleep } from '@agentrix/core';
import type { Transformer } from 'grammy';
import type { RateLimiter } from './rate-limiter.js';

export interface RetryOptions extends Partial<RetryPolicy> {
  /** The longest `retry_after` waited out; a longer one fails the call (`RATE_LIMITED`). Default 60,000 ms. */
  maxRetryAfterMs?: number;
}

export interface RetryNotice {
  method: string;
  attempt: number;
  delayMs: number;
  error: unknown;
}

/** Methods that send to a chat and count against Telegram's limits. */
const LIMITED = new Set([
  'sendMessage',
  'editMessageText',
  'editMessageReplyMarkup',
  'sendPhoto',
  'sendDocument',
  'copyMessage',
  'forwardMessage',
]);

/**
 * A grammY API transformer (the one owner of Bot API retries): spaces chat messages with the
 * `RateLimiter`, waits out a 429's `retry_after` (and keeps the chat quiet meanwhile), and retries
 * 5xx answers and network faults with exponential backoff. Other failures (400, 403) are returned
 * at once: sending them again cannot help. `getUpdates` is left to the poller's own loop, and a
 * typing indicator is sent once: one sent late would show "typing..." after the answer.
 */
export function retryTransformer(options: {
  clock: Clock;
  limiter: RateLimiter;
  retry: RetryOptions;
  onRetry: (notice: RetryNotice) => void;
}): Transformer {
  const { clock, limiter, onRetry } = options;
  const attempts = options.retry.attempts ?? 5;
  const policy = { baseDelayMs: options.retry.baseDelayMs ?? 500, maxDelayMs: options.retry.maxDelayMs ?? 30_000 };
  const maxRetryAfterMs = options.retry.maxRetryAfterMs ?? 60_000;
  return (async (previous, method, payload, shimSignal) => {
    // grammY types the signal with the abort-controller shim; at run time it is the platform's.
    const signal = shimSignal as AbortSignal | undefined;
    if (method === 'getUpdates' || method === 'sendChatAction') return previous(method, payload, shimSignal);
    const chatId = (payload as { chat_id?: number | string } | undefined)?.chat_id;
    // The chat's turn is held across the retries, so a retried message keeps its place in the chat.
    const turn = chatId !== undefined && LIMITED.has(method) ? await limiter.acquire(chatId, signal) : undefined;
    try {
      for (let attempt = 1; ; attempt++) {
        await turn?.ready(signal);
        let delayMs: number;
        let failure: unknown;
        try {
          const response = await previous(method, payload, shimSignal);
          turn?.sent();
          if (response.ok || attempt >= attempts) return response;
          const retryAfter = response.parameters?.retry_after;
          if (response.error_code === 429 && retryAfter !== undefined) {
            delayMs = retryAfter * 1000;
            if (delayMs > maxRetryAfterMs) return response;
            turn?.pause(clock.now() + delayMs);
          } else if (response.error_code >= 500) {
            delayMs = backoffDelay(attempt, policy);
          } else {
            return response;
          }
          failure = response;
        } catch (error) {
          turn?.sent();
          if (signal?.aborted || attempt >= attempts) throw error;
          delayMs = backoffDelay(attempt, policy);
          failure = error;
        }
        onRetry({ method, attempt, delayMs, error: failure });
        await sleep(delayMs, { clock, ...(signal ? { signal } : {}) });
      }
    } finally {
      turn?.release();
    }
  }) as Transformer;
}
