import type { AgentrixEvents, Clock, Logger } from '@agentrix/core';
import type { TelegramLimits } from './rate-limiter.js';
import type { RetryOptions } from './retry-transformer.js';
import type { TelegramTexts } from './texts.js';
import type { UpdateLog } from './update-log.js';

/** One chat (or one forum topic of a chat) and the agent conversation it talks to. */
export interface TelegramRoute {
  chatId: number;
  /** A forum topic (`message_thread_id`) of the chat; without it the route covers the whole chat. */
  topicId?: number;
  /** Default: the channel's `agent`. */
  agentId?: string;
  /** Default: `telegram:<chatId>` (`telegram:<chatId>:<topicId>` for a topic). */
  threadId?: string;
}

/**
 * Who may talk to the bot. Default: nobody (closed), so a stranger who finds the bot cannot
 * spend the budget. `'everyone'` opens it to all.
 */
export type TelegramAllowList = 'everyone' | { users?: readonly number[]; chats?: readonly number[] };

export interface TelegramChannelOptions {
  /** The bot token from @BotFather. Never logged, emitted or put in an error. */
  token: string;
  /** The agent every allowed chat talks to, unless a route names another. */
  agent: string;
  /** Chats (or topics) routed to other agents or threads. Default: every chat to `agent`, one thread per chat (and topic). */
  routes?: readonly TelegramRoute[];
  /** Default: closed (see {@link TelegramAllowList}). */
  allow?: TelegramAllowList;
  /**
   * Users whose Approve / Reject presses decide approvals. Default: `allow.users` (nobody when the
   * bot is open to `'everyone'` or to whole chats: being let in to talk is not a licence to approve).
   */
  approvers?: readonly number[];
  /**
   * Which group messages reach the agent. `'mentions'` (default): commands, messages that mention
   * the bot (`@its_username`) and replies to its messages; other talk in the group is ignored
   * (no answer, no model call), so a bot with privacy mode off does not answer every line.
   * `'all'`: every message Telegram delivers. Private chats always reach the agent.
   */
  groupMessages?: 'mentions' | 'all';
  /**
   * Where updates are recorded before they are handled. Default: the store's database when the
   * runtime has a store (durable), else in memory (duplicates caught within this process only).
   */
  updates?: UpdateLog;
  /** The Bot API server. Default `https://api.telegram.org` (a local Bot API server, or a fake one in tests). */
  apiRoot?: string;
  /** Answers are streamed by editing one message at most this often. Default 1,000 ms; `false`: send the final answer only. */
  streamEditIntervalMs?: number | false;
  /** The typing indicator is sent again this often while a turn runs (Telegram shows it for 5 s). Default 4,500 ms. */
  typingIntervalMs?: number;
  /** Longest text accepted from a user; longer ones get a reply instead of a model call. Default 4,096. */
  maxInputChars?: number;
  /** Handling attempts of one update before it is dead-lettered (with an apology). Default 3. */
  maxAttempts?: number;
  limits?: TelegramLimits;
  /** Bot API retries (429 `retry_after`, 5xx, network). Default 5 attempts, backoff 500 ms to 30 s. */
  retry?: RetryOptions;
  /** Long polling: the `timeout` of `getUpdates` in seconds (Telegram holds the call that long). Default 30. */
  pollTimeoutSeconds?: number;
  /** `X-Telegram-Bot-Api-Secret-Token` that webhook calls must carry (set it with `setWebhook`). Default: none checked. */
  webhookSecret?: string;
  /** Approval requests whose turn did not start in a chat go to this chat. Default: none (left to the host). */
  approvalsChatId?: number;
  /** Register the `send_telegram` skill with the runtime's skills. Default true. */
  registerSkill?: boolean;
  /** Replies the channel writes itself (commands, refusals, apologies). */
  texts?: Partial<TelegramTexts>;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: the runtime's events. */
  events?: AgentrixEvents;
  /** Default: silent. Every line is redacted of the token. */
  logger?: Logger;
}
