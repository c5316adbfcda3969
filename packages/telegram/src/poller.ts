import { backoffDelay, type Clock, type Logger, serializeError, sleep } from '@agentrix/core';
import type { Update } from 'grammy/types';
import type { TelegramApi } from './telegram-api.js';

export interface PollerOptions {
  api: TelegramApi;
  clock: Clock;
  logger: Logger;
  timeoutSeconds: number;
  /** Handles one update; resolves once it is recorded (and handled or queued for a retry). */
  handle(update: Update): Promise<void>;
}

/**
 * Long polling: `getUpdates` with the offset after the last update handled, so Telegram forgets
 * an update only once the channel has recorded it (a crash before that gets it again). A failed
 * call (network, 5xx, 409 "another instance is polling") is retried with backoff until `stop()`.
 */
export class Poller {
  readonly #options: PollerOptions;
  readonly #abort = new AbortController();
  #offset: number | undefined;
  #running: Promise<void> | undefined;

  constructor(options: PollerOptions) {
    this.#options = options;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #loop(): Promise<void> {
    const { api, clock, logger, timeoutSeconds } = this.#options;
    const signal = this.#abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      const startedAt = clock.now();
      let updates: Update[];
      try {
        updates = await api.call('getUpdates', () =>
          api.raw.getUpdates(
            { timeout: timeoutSeconds, ...(this.#offset !== undefined ? { offset: this.#offset } : {}) },
            // grammY types its signal with the abort-controller shim's AbortSignal.
            signal as never,
          ),
        );
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        failures++;
        const delayMs = backoffDelay(failures, { baseDelayMs: 500, maxDelayMs: 30_000 });
        logger.warn(
          { attempt: failures, delayMs, error: serializeError(error) },
          'telegram getUpdates failed; retrying',
        );
        await sleep(delayMs, { clock, signal }).catch(() => {});
        continue;
      }
      for (const update of updates) {
        if (signal.aborted) return;
        try {
          await this.#options.handle(update);
        } catch (error) {
          // Not recorded (the store is down): poll again from this update, after a pause.
          logger.error({ updateId: update.update_id, error: serializeError(error) }, 'telegram update not recorded');
          await sleep(1_000, { clock, signal }).catch(() => {});
          break;
        }
        this.#offset = update.update_id + 1;
      }
      // A server that answers at once instead of holding the call (a fake Bot API): do not spin.
      if (updates.length === 0 && clock.now() - startedAt < 100) {
        await sleep(100, { clock, signal }).catch(() => {});
      }
    }
  }
}
