// What the channel does with each kind of update, as grammY middleware: the allow-list and who
// may press approval buttons, the commands (`/start`, `/reset`, `/status`), texts for the agent,
// button presses, and a clear word for everything else. Each handler records the update's outcome.
import { AgentrixError, type AgentrixEvents, type Logger, serializeError } from '@agentrix/core';
import type { Agentrix } from '@agentrix/runtime';
import type { Bot, Context } from 'grammy';
import type { ChatRouter, ResolvedRoute } from './routing.js';
import type { ChatAddress, TelegramApi } from './telegram-api.js';
import type { TelegramChannelOptions } from './telegram-options.js';
import type { TelegramStats } from './telegram-stats.js';
import type { TelegramTexts } from './texts.js';
import { addressOf, isAddressed, kindOf } from './update-fields.js';
import type { UpdateStatus, UpdateTarget } from './update-log.js';

const APPROVAL_DATA = /^approval:(.+):(y|n)$/;

/** What handling one update came to. */
export interface Outcome {
  status: UpdateStatus;
  target?: UpdateTarget;
}

export interface UpdateHandlersOptions {
  botId: string;
  agentrix: Agentrix;
  api: TelegramApi;
  router: ChatRouter;
  /** Users whose button presses decide approvals. */
  approvers: ReadonlySet<number>;
  texts: TelegramTexts;
  events: AgentrixEvents;
  logger: Logger;
  stats: TelegramStats;
  groupMessages: TelegramChannelOptions['groupMessages'];
  maxInputChars: number;
  /** Where each handler leaves the outcome of its update, for the channel to record. */
  outcomes: Map<number, Outcome>;
  /** Hands a text to the chat's agent. */
  dispatch(
    updateId: number,
    text: string,
    userId: number | undefined,
    to: ChatAddress,
    route: ResolvedRoute,
  ): Promise<void>;
}

export function installUpdateHandlers(bot: Bot, options: UpdateHandlersOptions): void {
  const { agentrix, router, texts, outcomes } = options;
  const done = (ctx: Context, status: UpdateStatus, target?: UpdateTarget) =>
    outcomes.set(ctx.update.update_id, { status, ...(target !== undefined ? { target } : {}) });
  const say = (ctx: Context, to: ChatAddress, text: string) => sayText(options, ctx, to, text);

  // Messages not meant for this bot: a command for another bot (`/status@other_bot`), and in a
  // group, talk that does not address it (see `groupMessages`). Ignored without a word.
  bot.on('message', async (ctx, next) => {
    if (isAddressed(ctx, options.groupMessages)) return next();
    ignore(options, ctx);
  });

  // The allow-list, before anything else: a stranger's message costs no model call.
  bot.on('message', async (ctx, next) => {
    if (router.allows(ctx.chat.id, ctx.from?.id)) return next();
    refuse(options, ctx, ctx.chat.id);
    await say(ctx, addressOf(ctx), texts.notAllowed);
    done(ctx, 'answered', { chatId: ctx.chat.id });
  });

  // A button press decides an approval: only an approver may, whatever chat the button is in
  // (a button of an inline message has no chat at all).
  bot.on('callback_query', async (ctx, next) => {
    if (options.approvers.has(ctx.from.id)) return next();
    refuse(options, ctx, ctx.chat?.id ?? ctx.from.id);
    await answerCallback(options, ctx.callbackQuery.id, texts.notAllowed);
    done(ctx, 'answered', ctx.chat !== undefined ? { chatId: ctx.chat.id } : undefined);
  });

  bot.command('start', async (ctx) => {
    await say(ctx, addressOf(ctx), texts.start);
    done(ctx, 'answered', { chatId: ctx.chat.id });
  });

  bot.command('reset', async (ctx) => {
    const to = addressOf(ctx);
    const route = router.route(ctx.chat.id, to.topicId);
    let text = texts.reset;
    try {
      await agentrix.forget(route.agentId, route.threadId);
    } catch (error) {
      if (!AgentrixError.isInstance(error) || error.code !== 'THREAD_NOT_FOUND') throw error;
      text = texts.nothingToReset;
    }
    await say(ctx, to, text);
    done(ctx, 'answered', { chatId: ctx.chat.id, ...route });
  });

  bot.command('status', async (ctx) => {
    const to = addressOf(ctx);
    const route = router.route(ctx.chat.id, to.topicId);
    await say(ctx, to, await status(agentrix, route.agentId, route.threadId));
    done(ctx, 'answered', { chatId: ctx.chat.id, ...route });
  });

  bot.on('message:text', async (ctx) => {
    const to = addressOf(ctx);
    const target = { chatId: ctx.chat.id, ...(to.topicId !== undefined ? { topicId: to.topicId } : {}) };
    const max = options.maxInputChars;
    if (ctx.message.text.length > max) {
      await say(ctx, to, texts.tooLong.replace('{max}', String(max)));
      done(ctx, 'answered', target);
      return;
    }
    const route = router.route(ctx.chat.id, to.topicId);
    await options.dispatch(ctx.update.update_id, ctx.message.text, ctx.from?.id, to, route);
    done(ctx, 'dispatched', { ...target, ...route });
  });

  bot.on('callback_query:data', async (ctx) => {
    const match = APPROVAL_DATA.exec(ctx.callbackQuery.data);
    if (match === null) {
      await answerCallback(options, ctx.callbackQuery.id, 'This button does nothing any more.');
    } else {
      const [, approvalId, choice] = match as unknown as [string, string, 'y' | 'n'];
      await answerCallback(options, ctx.callbackQuery.id, decide(agentrix, approvalId, choice, ctx.from.id));
    }
    done(ctx, 'answered', ctx.chat !== undefined ? { chatId: ctx.chat.id } : undefined);
  });

  // Files, stickers, photos, voice, locations...: a clear reply instead of silence.
  bot.on('message', async (ctx) => {
    await say(ctx, addressOf(ctx), texts.unsupported);
    done(ctx, 'answered', { chatId: ctx.chat.id });
  });

  // Everything else (edits, channel posts, polls, reactions, ...): counted, not answered.
  bot.use((ctx) => ignore(options, ctx));
}

function ignore(options: UpdateHandlersOptions, ctx: Context): void {
  options.stats.ignored++;
  options.events.emit('telegram.update-ignored', {
    botId: options.botId,
    updateId: ctx.update.update_id,
    kind: kindOf(ctx.update),
  });
  options.outcomes.set(ctx.update.update_id, { status: 'ignored' });
}

function refuse(options: UpdateHandlersOptions, ctx: Context, chatId: number): void {
  options.stats.refused++;
  options.events.emit('telegram.refused', {
    botId: options.botId,
    updateId: ctx.update.update_id,
    chatId,
    ...(ctx.from !== undefined ? { userId: ctx.from.id } : {}),
  });
}

/** The toast of a button press: a press answered late (Telegram allows 15 s or so) is still decided. */
async function answerCallback(options: UpdateHandlersOptions, id: string, text: string): Promise<void> {
  await options.api
    .answerCallback(id, text)
    .catch((error: unknown) =>
      options.logger.warn({ error: serializeError(error) }, 'telegram button press not acknowledged'),
    );
}

/** Answers an update with a text of the channel's own (no model call). */
async function sayText(options: UpdateHandlersOptions, ctx: Context, to: ChatAddress, text: string): Promise<void> {
  const messageIds = await options.api.sendText(to, text);
  options.events.emit('telegram.replied', {
    botId: options.botId,
    chatId: Number(to.chatId),
    messageIds,
    updateId: ctx.update.update_id,
  });
}

async function status(agentrix: Agentrix, agentId: string, threadId: string): Promise<string> {
  const lines: string[] = [];
  if (agentrix.has(agentId)) {
    const info = agentrix.get(agentId);
    lines.push(`Agent **${info.name}**: ${info.state}${info.pause ? ` (${info.pause.kind})` : ''}.`);
  } else {
    lines.push(`Agent **${agentId}** runs in another process.`);
  }
  const context = await agentrix.contexts.load(agentId, threadId);
  lines.push(`This conversation: ${context.turns} turns, ${context.messages.length} messages remembered.`);
  return lines.join('\n');
}

function decide(agentrix: Agentrix, approvalId: string, choice: 'y' | 'n', userId: number): string {
  const by = `telegram:${userId}`;
  try {
    if (choice === 'y') agentrix.approve(approvalId, { by });
    else agentrix.reject(approvalId, `rejected in Telegram by ${by}`, { by });
    return choice === 'y' ? 'Approved' : 'Rejected';
  } catch (error) {
    if (AgentrixError.isInstance(error) && error.code === 'INVALID_ARGUMENT') {
      return 'This request was already decided or has expired.';
    }
    throw error;
  }
}
