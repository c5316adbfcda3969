import { type Logger, serializeError } from '@agentrix/core';
import type { ChatAddress, TelegramApi } from './telegram-api.js';

interface ApprovalRequestLike {
  id: string;
  agentId: string;
  turnId: string;
  skill: string;
  input: unknown;
}

/** Telegram allows 64 bytes of `callback_data`. */
const MAX_CALLBACK_DATA = 64;

/**
 * Approval requests as messages with Approve / Reject buttons: sent to the chat whose message
 * started the turn (else `fallbackChatId`), and edited to the outcome once the gate decides
 * (a button press, the host, a timeout). The press itself is handled by the channel.
 */
export class ApprovalButtons {
  readonly #api: TelegramApi;
  readonly #logger: Logger;
  readonly #chatOfTurn: (turnId: string) => ChatAddress | undefined;
  readonly #fallbackChatId: number | undefined;
  readonly #sent = new Map<string, Promise<{ to: ChatAddress; messageId: number; text: string } | undefined>>();

  constructor(options: {
    api: TelegramApi;
    logger: Logger;
    chatOfTurn: (turnId: string) => ChatAddress | undefined;
    fallbackChatId?: number;
  }) {
    this.#api = options.api;
    this.#logger = options.logger;
    this.#chatOfTurn = options.chatOfTurn;
    this.#fallbackChatId = options.fallbackChatId;
  }

  requested(request: ApprovalRequestLike): void {
    const to = this.#chatOfTurn(request.turnId) ?? this.#to(this.#fallbackChatId);
    if (to === undefined) return;
    const yes = `approval:${request.id}:y`;
    if (Buffer.byteLength(yes) > MAX_CALLBACK_DATA) {
      this.#logger.warn({ approvalId: request.id }, 'approval id too long for a Telegram button; not sent');
      return;
    }
    const text = `**${request.agentId}** asks to run \`${request.skill}\` with:\n\`\`\`json\n${JSON.stringify(request.input, null, 2)}\n\`\`\``;
    const sending = this.#api
      .sendText(to, text, [
        { text: '✅ Approve', data: yes },
        { text: '❌ Reject', data: `approval:${request.id}:n` },
      ])
      .then((ids) => ({ to, messageId: ids[ids.length - 1] as number, text }))
      .catch((error: unknown) => {
        this.#logger.warn(
          { approvalId: request.id, error: serializeError(error) },
          'approval request not sent to Telegram',
        );
        return undefined;
      });
    this.#sent.set(request.id, sending);
  }

  /** Replaces the buttons with the outcome. */
  resolved(id: string, outcome: string, by: string | undefined): void {
    const sending = this.#sent.get(id);
    if (sending === undefined) return;
    this.#sent.delete(id);
    void sending.then(async (sent) => {
      if (sent === undefined) return;
      const label =
        { approved: '✅ Approved', rejected: '❌ Rejected', 'timed-out': '⌛ Expired' }[outcome] ?? '✖ Cancelled';
      const text = `${sent.text}\n${label}${by !== undefined ? ` by ${by}` : ''}`;
      await this.#api.editText(sent.to, sent.messageId, text, { markdown: true }).catch((error: unknown) => {
        this.#logger.warn({ approvalId: id, error: serializeError(error) }, 'approval message not updated');
      });
    });
  }

  close(): void {
    this.#sent.clear();
  }

  #to(chatId: number | undefined): ChatAddress | undefined {
    return chatId === undefined ? undefined : { chatId };
  }
}
