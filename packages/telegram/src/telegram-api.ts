import type { Api } from 'grammy';
import { statusOf, telegramError } from './errors.js';
import { markdownToHtml } from './format.js';
import { splitMessage, TELEGRAM_MESSAGE_LIMIT } from './split.js';

/** Where a message goes: a chat, and a forum topic of it. */
export interface ChatAddress {
  chatId: number | string;
  topicId?: number;
}

export interface InlineButton {
  text: string;
  data: string;
}

/**
 * The few Bot API calls the channel makes, through grammY's `Api` (and so through the rate
 * limiter and retry transformer), with every failure turned into a redacted AgentrixError.
 */
export class TelegramApi {
  readonly #api: Api;
  readonly #token: string;
  /** grammY types its signal with the abort-controller shim's AbortSignal. */
  readonly #signal: never;

  /** `signal` aborts every call (the channel's close: a send waiting out a 429 stops at once). */
  constructor(api: Api, token: string, signal?: AbortSignal) {
    this.#api = api;
    this.#token = token;
    this.#signal = signal as never;
  }

  get raw(): Api {
    return this.#api;
  }

  async call<T>(method: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw telegramError(error, method, this.#token);
    }
  }

  /**
   * Sends Markdown `text` as HTML, split into as many messages as it needs; returns their ids.
   * A part Telegram cannot parse (it should not happen) is sent again as plain text.
   */
  async sendText(to: ChatAddress, text: string, buttons?: readonly InlineButton[]): Promise<number[]> {
    const ids: number[] = [];
    const parts = splitMessage(text);
    for (const [index, part] of parts.entries()) {
      const markup = index === parts.length - 1 ? buttons : undefined;
      ids.push(await this.sendPart(to, part, markup));
    }
    return ids;
  }

  /** Sends one part (rendered length within the limit) as HTML, falling back to plain text. */
  async sendPart(to: ChatAddress, part: string, buttons?: readonly InlineButton[]): Promise<number> {
    const other = {
      ...(to.topicId !== undefined ? { message_thread_id: to.topicId } : {}),
      ...(buttons !== undefined ? { reply_markup: keyboard(buttons) } : {}),
    };
    try {
      const sent = await this.call('sendMessage', () =>
        this.#api.sendMessage(to.chatId, markdownToHtml(part), { ...other, parse_mode: 'HTML' }, this.#signal),
      );
      return sent.message_id;
    } catch (error) {
      if (!isParseFailure(error)) throw error;
      const sent = await this.call('sendMessage', () => this.#api.sendMessage(to.chatId, part, other, this.#signal));
      return sent.message_id;
    }
  }

  /** Sends plain text (no parse mode), cut to one message. */
  async sendPlain(to: ChatAddress, text: string): Promise<number> {
    const sent = await this.call('sendMessage', () =>
      this.#api.sendMessage(
        to.chatId,
        clip(text),
        to.topicId !== undefined ? { message_thread_id: to.topicId } : {},
        this.#signal,
      ),
    );
    return sent.message_id;
  }

  /** Replaces a message's text: plain, or Markdown rendered as HTML. "Not modified" is not an error. */
  async editText(
    to: ChatAddress,
    messageId: number,
    text: string,
    options: { markdown?: boolean; buttons?: readonly InlineButton[] } = {},
  ): Promise<void> {
    const other = options.buttons !== undefined ? { reply_markup: keyboard(options.buttons) } : {};
    try {
      if (options.markdown) {
        try {
          await this.call('editMessageText', () =>
            this.#api.editMessageText(
              to.chatId,
              messageId,
              markdownToHtml(text),
              { ...other, parse_mode: 'HTML' },
              this.#signal,
            ),
          );
          return;
        } catch (error) {
          if (!isParseFailure(error)) throw error;
        }
      }
      await this.call('editMessageText', () =>
        this.#api.editMessageText(to.chatId, messageId, clip(text), other, this.#signal),
      );
    } catch (error) {
      if (!isNotModified(error)) throw error;
    }
  }

  async typing(to: ChatAddress): Promise<void> {
    await this.call('sendChatAction', () =>
      this.#api.sendChatAction(
        to.chatId,
        'typing',
        to.topicId !== undefined ? { message_thread_id: to.topicId } : {},
        this.#signal,
      ),
    );
  }

  async answerCallback(id: string, text: string): Promise<void> {
    await this.call('answerCallbackQuery', () => this.#api.answerCallbackQuery(id, { text }, this.#signal));
  }
}

function keyboard(buttons: readonly InlineButton[]) {
  return { inline_keyboard: [buttons.map((button) => ({ text: button.text, callback_data: button.data }))] };
}

/** Cuts plain text to one message (streamed partial answers, apologies), never inside a surrogate pair. */
export function clip(text: string): string {
  if (text.length <= TELEGRAM_MESSAGE_LIMIT) return text;
  let end = TELEGRAM_MESSAGE_LIMIT - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1; // a lone half is not UTF-8: Telegram refuses the message
  return `${text.slice(0, end)}…`;
}

/** The message to edit is gone (the user deleted it) or too old to edit (48 h): send a new one instead. */
export function isMessageGone(error: unknown): boolean {
  return (
    statusOf(error) === 400 &&
    /message to edit not found|message can't be edited/i.test(String((error as Error).message))
  );
}

function isParseFailure(error: unknown): boolean {
  return statusOf(error) === 400 && /parse entities|can't find end/i.test(String((error as Error).message));
}

function isNotModified(error: unknown): boolean {
  return statusOf(error) === 400 && /not modified/i.test(String((error as Error).message));
}
