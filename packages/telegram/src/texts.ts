/** Replies the channel writes itself, without a model call. */
export interface TelegramTexts {
  start: string;
  notAllowed: string;
  unsupported: string;
  tooLong: string;
  apology: string;
  reset: string;
  nothingToReset: string;
  empty: string;
}

export const DEFAULT_TEXTS: TelegramTexts = {
  start: 'Hello! Send me a message and I will answer. /reset starts a new conversation, /status shows how I am doing.',
  notAllowed: 'Sorry, this bot is private: this chat is not on its allow-list.',
  unsupported: 'I can only read text messages for now: please send your question as text.',
  tooLong: 'That message is too long for me ({max} characters at most). Please send a shorter one.',
  apology: 'Sorry, something went wrong and I could not answer that. Please try again later.',
  reset: 'Done: I forgot our conversation. The next message starts a new one.',
  nothingToReset: 'There is nothing to forget yet: we have not talked in this chat.',
  empty: '(no answer)',
};
