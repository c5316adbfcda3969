// The answers on their way to chats: one `ReplyStream` per message sent to an agent, fed with the
// model's words of the turn that answers it, so the answer appears as edits of one message.
import type { Clock, Logger } from '@agentrix/core';
import { ReplyStream } from './reply-stream.js';
import type { ChatAddress, TelegramApi } from './telegram-api.js';

export interface AnswerStreamsOptions {
  api: TelegramApi;
  clock: Clock;
  logger: Logger;
  /** How often a streamed answer is edited; `false`: only the final answer is shown. */
  editIntervalMs: number | false;
  typingIntervalMs: number;
}

export class AnswerStreams {
  readonly #options: AnswerStreamsOptions;
  /** Answers on their way, by the id of the message sent to the agent. */
  readonly #streams = new Map<string, ReplyStream>();
  /** Running turns that answer a chat: turn id -> message id (and the model step last seen). */
  readonly #turns = new Map<string, { messageId: string; step: number }>();

  constructor(options: AnswerStreamsOptions) {
    this.#options = options;
  }

  /**
   * Starts the answer to a message sent to an agent (typing shown until its words arrive); one
   * already on its way is kept. `onShown` hears of the message that shows the partial answer.
   */
  open(messageId: string, to: ChatAddress, onShown: (shownMessageId: number) => void): void {
    if (this.#streams.has(messageId)) return;
    const { api, clock, logger, editIntervalMs, typingIntervalMs } = this.#options;
    const stream = new ReplyStream({ api, to, clock, logger, editIntervalMs, typingIntervalMs, onShown });
    this.#streams.set(messageId, stream);
    stream.startTyping();
  }

  /**
   * Shows the final answer, on the stream of this message or, when there is none (the answer
   * comes after a restart), on a new one that replaces the partial answer shown before
   * (`shownMessageId`). Returns the ids of the messages that carry it.
   */
  async finish(messageId: string, to: ChatAddress, text: string, shownMessageId?: number): Promise<number[]> {
    const { api, clock, logger } = this.#options;
    const stream =
      this.#streams.get(messageId) ??
      new ReplyStream({
        api,
        to,
        clock,
        logger,
        editIntervalMs: false,
        typingIntervalMs: 4500,
        ...(shownMessageId !== undefined ? { messageId: shownMessageId } : {}),
      });
    this.#streams.set(messageId, stream);
    const messageIds = await stream.finish(text);
    this.#streams.delete(messageId);
    return messageIds;
  }

  /** Gives up on the answer to this message (no answer or an apology comes instead). */
  drop(messageId: string): void {
    this.#streams.get(messageId)?.close();
    this.#streams.delete(messageId);
  }

  /** The chat a running turn answers, if it answers one. */
  chatOfTurn(turnId: string): ChatAddress | undefined {
    const turn = this.#turns.get(turnId);
    return turn === undefined ? undefined : this.#streams.get(turn.messageId)?.to;
  }

  turnStarted(turnId: string, messageId: string): void {
    const stream = this.#streams.get(messageId);
    if (stream === undefined) return;
    stream.restart();
    this.#turns.set(turnId, { messageId, step: 0 });
  }

  token(turnId: string, step: number, text: string): void {
    const turn = this.#turns.get(turnId);
    if (turn === undefined) return;
    const stream = this.#streams.get(turn.messageId);
    if (turn.step !== step) {
      turn.step = step;
      stream?.restart(); // a new model step: show its words, not the last step's
    }
    stream?.push(text);
  }

  turnEnded(turnId: string): void {
    this.#turns.delete(turnId);
  }

  close(): void {
    for (const stream of this.#streams.values()) stream.close();
    this.#streams.clear();
  }
}
