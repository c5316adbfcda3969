// What the channel reads off a Telegram update: its kind, its chat, the address to answer it at.
import type { Context } from 'grammy';
import type { Update } from 'grammy/types';
import type { ChatAddress } from './telegram-api.js';
import type { TelegramChannelOptions } from './telegram-options.js';

export function kindOf(update: Update): string {
  return Object.keys(update).find((key) => key !== 'update_id') ?? 'unknown';
}

export function chatOf(update: Update): { id: number } | undefined {
  return update.message?.chat ?? update.callback_query?.message?.chat ?? undefined;
}

export function chatAddressOf(update: Update): ChatAddress | undefined {
  const chat = chatOf(update);
  if (chat === undefined) return undefined;
  const message = update.message;
  const topicId = message?.is_topic_message === true ? message.message_thread_id : undefined;
  return { chatId: chat.id, ...(topicId !== undefined ? { topicId } : {}) };
}

export function addressOf(ctx: Context): ChatAddress {
  const message = ctx.message;
  const topicId = message?.is_topic_message === true ? message.message_thread_id : undefined;
  return { chatId: (ctx.chat as { id: number }).id, ...(topicId !== undefined ? { topicId } : {}) };
}

/** Whether a message is for this bot (see `groupMessages`); a command for another bot never is. */
export function isAddressed(ctx: Context, groupMessages: TelegramChannelOptions['groupMessages']): boolean {
  const message = ctx.message;
  if (message === undefined) return true;
  const me = ctx.me.username.toLowerCase();
  const text = message.text ?? message.caption ?? '';
  const entities = message.entities ?? message.caption_entities ?? [];
  const command = entities.find((entity) => entity.type === 'bot_command' && entity.offset === 0);
  if (command !== undefined) {
    const target = text.slice(0, command.length).split('@')[1];
    return target === undefined || target.toLowerCase() === me;
  }
  if (message.chat.type === 'private' || groupMessages === 'all') return true;
  if (message.reply_to_message?.from?.id === ctx.me.id) return true;
  return entities.some(
    (entity) =>
      (entity.type === 'mention' &&
        text.slice(entity.offset + 1, entity.offset + entity.length).toLowerCase() === me) ||
      (entity.type === 'text_mention' && entity.user.id === ctx.me.id),
  );
}
