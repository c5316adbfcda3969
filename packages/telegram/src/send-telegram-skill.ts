import { AgentrixError } from '@agentrix/core';
import { defineSkill, type Skill } from '@agentrix/skills';
import { z } from 'zod';

/** What the skill needs from a channel. */
export interface TelegramSender {
  /** True when the chat is on the allow-list (the skill sends nowhere else). */
  allows(chatId: number): boolean;
  sendText(chatId: number, text: string): Promise<number[]>;
}

const input = z.object({
  chat_id: z.number().int().describe('The Telegram chat id to send to'),
  text: z.string().min(1).max(100_000).describe('The message (Markdown; long texts are split)'),
  idempotency_key: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Sending again with the same key returns the first result instead of sending twice'),
});

/**
 * `send_telegram(chat_id, text) -> message_id`: lets an agent write to a chat on its own (a
 * reminder, a report). It runs through the skill executor, idempotent by key: the caller's
 * `idempotency_key`, else the tool call (`agent:turn:call`), so a retried call sends once. It
 * sends only to chats on the allow-list.
 */
export function createSendTelegramSkill(sender: TelegramSender): Skill<z.output<typeof input>, unknown> {
  return defineSkill({
    name: 'send_telegram',
    description: 'Sends a text message to a Telegram chat and returns its message_id.',
    input,
    output: z.object({ message_id: z.number(), message_ids: z.array(z.number()) }),
    costTier: 'low',
    idempotencyKey: (args, key) => args.idempotency_key ?? `${key.agentId}:${key.turnId}:${key.toolCallId}`,
    async execute({ chat_id, text }) {
      if (!sender.allows(chat_id)) {
        throw new AgentrixError(
          'INVALID_ARGUMENT',
          `Chat ${chat_id} is not on the Telegram allow-list: send_telegram only writes to allowed chats`,
          { details: { chatId: chat_id } },
        );
      }
      const ids = await sender.sendText(chat_id, text);
      return { message_id: ids[0] as number, message_ids: ids };
    },
  });
}
