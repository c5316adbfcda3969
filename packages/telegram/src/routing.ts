import { AddressSchema, ThreadIdSchema } from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';
import type { TelegramAllowList, TelegramRoute } from './telegram-options.js';

/** Where one chat's messages go. */
export interface ResolvedRoute {
  agentId: string;
  threadId: string;
}

/**
 * Maps a chat (and forum topic) to an agent and a thread: a route for the topic, else a route
 * for the chat, else the default agent with one thread per chat (and topic). Also decides who
 * may talk to the bot.
 */
export class ChatRouter {
  readonly #agent: string;
  readonly #routes = new Map<string, TelegramRoute>();
  readonly #allow: TelegramAllowList | undefined;
  readonly #users: ReadonlySet<number>;
  readonly #chats: ReadonlySet<number>;

  constructor(agent: string, routes: readonly TelegramRoute[], allow: TelegramAllowList | undefined) {
    checkAgentId(agent, 'agent');
    this.#agent = agent;
    for (const route of routes) {
      if (!Number.isSafeInteger(route.chatId)) {
        throw invalidArgument(`Invalid Telegram route chatId ${String(route.chatId)}: expected an integer chat id`);
      }
      if (route.agentId !== undefined) checkAgentId(route.agentId, `route for chat ${route.chatId}: agentId`);
      if (route.threadId !== undefined && !ThreadIdSchema.safeParse(route.threadId).success) {
        throw invalidArgument(
          `Invalid threadId "${route.threadId}" in the route for chat ${route.chatId}: use 1-200 letters, digits, "_", ".", ":", "@" or "-"`,
        );
      }
      this.#routes.set(routeKey(route.chatId, route.topicId), route);
    }
    if (allow !== undefined && allow !== 'everyone' && (typeof allow !== 'object' || allow === null)) {
      throw invalidArgument(`Invalid allow list: expected 'everyone' or { users?: number[], chats?: number[] }`);
    }
    this.#allow = allow;
    this.#users = new Set(allow !== undefined && allow !== 'everyone' ? (allow.users ?? []) : []);
    this.#chats = new Set(allow !== undefined && allow !== 'everyone' ? (allow.chats ?? []) : []);
  }

  /** True when the chat, or the user writing in it, is on the allow-list (nobody by default). */
  allows(chatId: number, userId: number | undefined): boolean {
    if (this.#allow === 'everyone') return true;
    return this.#chats.has(chatId) || (userId !== undefined && this.#users.has(userId));
  }

  route(chatId: number, topicId: number | undefined): ResolvedRoute {
    const route =
      (topicId !== undefined ? this.#routes.get(routeKey(chatId, topicId)) : undefined) ??
      this.#routes.get(routeKey(chatId, undefined));
    return {
      agentId: route?.agentId ?? this.#agent,
      threadId: route?.threadId ?? (topicId === undefined ? `telegram:${chatId}` : `telegram:${chatId}:${topicId}`),
    };
  }
}

function routeKey(chatId: number, topicId: number | undefined): string {
  return topicId === undefined ? `${chatId}` : `${chatId}:${topicId}`;
}

function checkAgentId(id: string, what: string): void {
  if (!AddressSchema.safeParse(id).success) {
    throw invalidArgument(
      `Invalid ${what} "${String(id)}": expected an agent id (1-128 letters, digits, "_", ".", ":" or "-")`,
    );
  }
}
