import type { SerializedError } from '@agentrix/core';

/** What kind of update it was: `message`, `callback_query`, `edited_message`, ... */
export type TelegramUpdateKind = string;

/**
 * Events of `@agentrix/telegram` (`noun.action`, unique across packages). They join core's
 * `AgentrixEventMap` (below), so they arrive on the one `AgentrixEvents` stream.
 */
export interface TelegramEventMap {
  /** A new update was recorded (before it is handled). */
  'telegram.update-received': { botId: string; updateId: number; kind: TelegramUpdateKind };
  /** An update already recorded came again (a webhook retry, a polling overlap): not handled twice. */
  'telegram.update-duplicate': { botId: string; updateId: number };
  /** An update of a kind the channel does not handle (edits, channel posts, polls, ...): counted, not answered. */
  'telegram.update-ignored': { botId: string; updateId: number; kind: TelegramUpdateKind };
  /** A chat or user outside the allow-list: refused without a model call. */
  'telegram.refused': { botId: string; updateId: number; chatId: number; userId?: number };
  /** An answer (or a pushed text) went out as these messages. */
  'telegram.replied': { botId: string; chatId: number; messageIds: number[]; updateId?: number };
  /** A Bot API call failed and runs again after `delayMs` (429 `retry_after`, 5xx, network). */
  'telegram.retry': { botId: string; method: string; attempt: number; delayMs: number; error: SerializedError };
  /** An update or an answer failed for good: dead-lettered, and the user got an apology. */
  'telegram.dead-lettered': { botId: string; updateId: number; chatId?: number; error: SerializedError };
}

export type TelegramEventName = keyof TelegramEventMap;

declare module '@agentrix/core' {
  interface AgentrixEventMap extends TelegramEventMap {}
}
