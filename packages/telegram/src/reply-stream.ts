import { BACKGROUND_TIMER, type Clock, type Logger, serializeError, type TimerHandle } from '@agentrix/core';
import { splitMessage } from './split.js';
import { type ChatAddress, clip, isMessageGone, type TelegramApi } from './telegram-api.js';

/** The longest typing indicator: the runtime's default turn timeout (120 s). */
const MAX_TYPING_MS = 120_000;

export interface ReplyStreamOptions {
  api: TelegramApi;
  to: ChatAddress;
  clock: Clock;
  logger: Logger;
  /** `false`: no partial answers, only the final one. */
  editIntervalMs: number | false;
  typingIntervalMs: number;
  /** The message that already shows part of this answer (shown before a restart): it is edited into the answer. */
  messageId?: number;
  /** The answer's first words went out as this message. */
  onShown?: (messageId: number) => void;
}

/**
 * One answer on its way to a chat: the typing indicator until the first words arrive, then the
 * words so far in one message, edited at most every `editIntervalMs` (one edit in flight at a
 * time, so a slow Bot API slows the edits down instead of queueing them), then the final answer
 * (as HTML, split at Telegram's limit: the streamed message becomes its first part).
 * Partial text is sent plain: half a Markdown answer is not valid markup.
 */
export class ReplyStream {
  readonly #options: ReplyStreamOptions;
  #text = '';
  #shown = '';
  #messageId: number | undefined;
  #typingTimer: TimerHandle | undefined;
  #editTimer: TimerHandle | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  #lastEditAt = 0;
  #done = false;
  #typingSince: number | undefined;

  constructor(options: ReplyStreamOptions) {
    this.#options = options;
    this.#messageId = options.messageId;
    // The first words wait one interval too: an answer that is complete by then goes out as one
    // message instead of a message and an edit (half the calls against the chat's rate limit).
    this.#lastEditAt = options.clock.now();
  }

  get to(): ChatAddress {
    return this.#options.to;
  }

  /**
   * Shows "typing..." now and again every `typingIntervalMs` until the first words or the end, for
   * at most `MAX_TYPING_MS` (an agent that is paused or far behind does not "type" for hours).
   */
  startTyping(): void {
    this.#typingSince ??= this.#options.clock.now();
    if (this.#done || this.#messageId !== undefined) return;
    if (this.#options.clock.now() - this.#typingSince > MAX_TYPING_MS) return;
    this.#options.api.typing(this.#options.to).catch((error: unknown) => this.#warn('typing indicator failed', error));
    this.#typingTimer = this.#options.clock.setTimeout(
      () => this.startTyping(),
      this.#options.typingIntervalMs,
      BACKGROUND_TIMER,
    );
  }

  /** More words of the answer (from `model.token`). */
  push(text: string): void {
    if (this.#done || this.#options.editIntervalMs === false) return;
    this.#text += text;
    if (this.#editTimer !== undefined) return;
    const wait = Math.max(0, this.#lastEditAt + this.#options.editIntervalMs - this.#options.clock.now());
    this.#editTimer = this.#options.clock.setTimeout(
      () => {
        this.#editTimer = undefined;
        this.#inFlight = this.#inFlight.then(() => this.#flush());
      },
      wait,
      BACKGROUND_TIMER,
    );
  }

  /** The turn starts over (a retry, a new model step): what was shown is replaced as new words come. */
  restart(): void {
    this.#text = '';
  }

  /** Sends the final answer; returns the ids of the messages that hold it. */
  async finish(answer: string): Promise<number[]> {
    this.#stop();
    await this.#inFlight;
    const { api, to } = this.#options;
    const parts = splitMessage(answer);
    const ids: number[] = [];
    for (const [index, part] of parts.entries()) {
      if (index === 0 && this.#messageId !== undefined && (await this.#edit(part))) {
        ids.push(this.#messageId);
      } else {
        ids.push(await api.sendPart(to, part));
      }
    }
    return ids;
  }

  /** Edits the streamed message into the answer's first part; false when the user deleted it (send anew). */
  async #edit(part: string): Promise<boolean> {
    try {
      await this.#options.api.editText(this.#options.to, this.#messageId as number, part, { markdown: true });
      return true;
    } catch (error) {
      if (!isMessageGone(error)) throw error;
      this.#warn('streamed message gone; answer sent as a new message', error);
      return false;
    }
  }

  /** Stops typing and edits (the answer failed or the channel closes). */
  close(): void {
    this.#stop();
  }

  #stop(): void {
    this.#done = true;
    const { clock } = this.#options;
    if (this.#typingTimer !== undefined) clock.clearTimeout(this.#typingTimer);
    if (this.#editTimer !== undefined) clock.clearTimeout(this.#editTimer);
    this.#typingTimer = undefined;
    this.#editTimer = undefined;
  }

  async #flush(): Promise<void> {
    if (this.#done) return;
    const text = clip(`${this.#text} …`);
    if (this.#text.trim() === '' || text === this.#shown) return;
    const { api, to, clock } = this.#options;
    this.#lastEditAt = clock.now();
    try {
      if (this.#messageId === undefined) {
        if (this.#typingTimer !== undefined) clock.clearTimeout(this.#typingTimer);
        this.#typingTimer = undefined;
        this.#messageId = await api.sendPlain(to, text);
        this.#options.onShown?.(this.#messageId);
      } else {
        await api.editText(to, this.#messageId, text);
      }
      this.#shown = text;
    } catch (error) {
      // Deleted by the user: the next words go to a new message.
      if (isMessageGone(error)) {
        this.#messageId = undefined;
        this.#shown = '';
      }
      this.#warn('streamed edit failed', error);
    }
  }

  #warn(message: string, error: unknown): void {
    this.#options.logger.warn({ chatId: this.#options.to.chatId, error: serializeError(error) }, message);
  }
}
