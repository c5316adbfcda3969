// The counts a Telegram channel keeps since it started (`channel.stats()`).

/** Counts since the channel started. */
export interface TelegramStats {
  received: number;
  duplicates: number;
  /** Updates of kinds the channel does not handle (edits, channel posts, polls, ...). */
  ignored: number;
  /** Messages from chats outside the allow-list. */
  refused: number;
  /** Text messages handed to an agent. */
  dispatched: number;
  /** Answers delivered to a chat. */
  answered: number;
  deadLettered: number;
}

export function emptyStats(): TelegramStats {
  return { received: 0, duplicates: 0, ignored: 0, refused: 0, dispatched: 0, answered: 0, deadLettered: 0 };
}
