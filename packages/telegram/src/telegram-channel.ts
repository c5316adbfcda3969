import {
  AgentrixError,
  type AgentrixEventMap,
  type AgentrixEventName,
  type AgentrixEvents,
  backoffDelay,
  type Clock,
  type Delivery,
  type Logger,
  type MessageEnvelope,
  redactingLogger,
  type SerializedError,
  serializeError,
  silentLogger,
  sleep,
  systemClock,
} from '@agentrix/core';
import { invalidArgument } from '@agentrix/core/implement';
import type { Agentrix } from '@agentrix/runtime';
import { Bot, type Context } from 'grammy';
import type { Update } from 'grammy/types';
import { ApprovalButtons } from './approval-buttons.js';
import { statusOf, telegramError } from './errors.js';
import { Poller } from './poller.js';
import { RateLimiter } from './rate-limiter.js';
import { ReplyStream } from './reply-stream.js';
import { type DailyReport, formatReport } from './report.js';
import { retryTransformer } from './retry-transformer.js';
import { ChatRouter } from './routing.js';
import { createSendTelegramSkill } from './send-telegram-skill.js';
import { openSqlUpdateLog } from './sql-update-log.js';
import { type ChatAddress, TelegramApi } from './telegram-api.js';
import type { TelegramChannelOptions } from './telegram-options.js';
import { DEFAULT_TEXTS, type TelegramTexts } from './texts.js';
import { InMemoryUpdateLog, type UpdateLog, type UpdateStatus, type UpdateTarget } from './update-log.js';

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

/** What handling one update came to. */
interface Outcome {
  status: UpdateStatus;
  target?: UpdateTarget;
}

/** Telegram bot tokens are `<bot id>:<secret>`. */
const TOKEN = /^(\d{1,20}):[A-Za-z0-9_-]{20,}$/;
const APPROVAL_DATA = /^approval:(.+):(y|n)$/;
/**
 * A recorded update nobody has marked for this long was interrupted by a crash: a copy arriving
 * now is handled. Handling marks the record at each attempt, the longest pause between two
 * marks is the retry backoff (10 s at most).
 */
const INTERRUPTED_AFTER_MS = 60_000;
/**
 * Answers delivered at once, to different conversations (one at a time per conversation, in
 * order): a chat waiting out a 429 or a backoff holds back no other chat, and a flood of
 * answers does not open a connection each.
 */
const MAX_DELIVERIES = 32;

/**
 * Connects a Telegram bot to the agents of an `Agentrix`. Updates come in by long polling
 * (`start()`) or through a webhook (`webhook(request)` / `handleUpdate(update)`); each is
 * recorded by `update_id` before it is handled (the `UpdateLog`), so a redelivered update is
 * answered once and one a crash interrupted is handled at the next start. A text goes to the
 * chat's agent and thread over the bus (message id `telegram:<bot>:<update>`, so the bus drops
 * a second copy), and the reply comes back to the channel's inbox, durably: an answer a crash
 * interrupted is delivered after the restart. Commands (`/start`, `/reset`, `/status`) never
 * reach a model, and neither does a chat outside the allow-list.
 */
export class TelegramChannel {
  /** The bot's numeric id (the part of the token before the colon). */
  readonly botId: string;
  /** The bus inbox where agents' replies come back. */
  readonly inbox: string;
  readonly #agentrix: Agentrix;
  readonly #options: TelegramChannelOptions;
  readonly #token: string;
  readonly #bot: Bot;
  readonly #api: TelegramApi;
  readonly #router: ChatRouter;
  readonly #texts: TelegramTexts;
  readonly #clock: Clock;
  readonly #events: AgentrixEvents;
  readonly #logger: Logger;
  readonly #approvals: ApprovalButtons;
  readonly #approvers: ReadonlySet<number>;
  readonly #stats: TelegramStats = {
    received: 0,
    duplicates: 0,
    ignored: 0,
    refused: 0,
    dispatched: 0,
    answered: 0,
    deadLettered: 0,
  };
  #log: UpdateLog | undefined;
  /** Answers on their way, by the id of the message sent to the agent. */
  readonly #streams = new Map<string, ReplyStream>();
  /** Running turns that answer a chat: turn id -> message id (and the model step last seen). */
  readonly #turns = new Map<string, { messageId: string; step: number }>();
  /** The outcome of the update being handled by grammY (set by the middleware). */
  readonly #outcomes = new Map<number, Outcome>();
  /** Updates being handled in this process, and the chain of each chat (updates of one chat in order). */
  readonly #handling = new Set<number>();
  /** Updates being written to the update log by `handleUpdate` now. */
  readonly #recording = new Set<number>();
  /** Answers being delivered (at most `MAX_DELIVERIES`), and the chain of each conversation (its answers in order). */
  readonly #delivering = new Set<Promise<void>>();
  readonly #replyChains = new Map<string, Promise<void>>();
  readonly #chains = new Map<string, Promise<void>>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #stop = new AbortController();
  #poller: Poller | undefined;
  #replyLoop: Promise<void> | undefined;
  #started: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(agentrix: Agentrix, options: TelegramChannelOptions) {
    if (typeof options?.token !== 'string' || !TOKEN.test(options.token)) {
      // Never echo the value: it may be a real token with a typo.
      throw invalidArgument(
        'Invalid Telegram bot token: expected "<bot id>:<secret>" as @BotFather gives it (the value is not shown)',
      );
    }
    this.#agentrix = agentrix;
    this.#options = options;
    this.#token = options.token;
    this.botId = (TOKEN.exec(options.token) as RegExpExecArray)[1] as string;
    this.inbox = `channel:telegram:${this.botId}`;
    this.#router = new ChatRouter(options.agent, options.routes ?? [], options.allow);
    const allow = options.allow;
    this.#approvers = new Set(options.approvers ?? (typeof allow === 'object' ? (allow.users ?? []) : []));
    this.#texts = { ...DEFAULT_TEXTS, ...options.texts };
    this.#clock = options.clock ?? systemClock;
    this.#events = options.events ?? agentrix.events;
    this.#logger = redactingLogger(options.logger ?? silentLogger, [options.token]);
    this.#bot = new Bot(options.token, {
      client: {
        ...(options.apiRoot !== undefined ? { apiRoot: options.apiRoot } : {}),
        // Longer than a long poll's hold, so only a hung call is cut.
        timeoutSeconds: (options.pollTimeoutSeconds ?? 30) + 30,
      },
    });
    const limiter = new RateLimiter(options.limits ?? {}, this.#clock);
    this.#bot.api.config.use(
      retryTransformer({
        clock: this.#clock,
        limiter,
        retry: options.retry ?? {},
        onRetry: ({ method, attempt, delayMs, error }) => {
          const serialized = serializeError(telegramError(error, method, this.#token), { secrets: [this.#token] });
          this.#logger.warn({ method, attempt, delayMs, error: serialized }, 'telegram call failed; retrying');
          this.#events.emit('telegram.retry', { botId: this.botId, method, attempt, delayMs, error: serialized });
        },
      }),
    );
    this.#api = new TelegramApi(this.#bot.api, options.token, this.#stop.signal);
    this.#approvals = new ApprovalButtons({
      api: this.#api,
      logger: this.#logger,
      chatOfTurn: (turnId) => this.#chatOfTurn(turnId),
      ...(options.approvalsChatId !== undefined ? { fallbackChatId: options.approvalsChatId } : {}),
    });
    this.#installHandlers();
    if (options.registerSkill !== false && !agentrix.skills.registry.has('send_telegram')) {
      agentrix.skills.registry.register(
        createSendTelegramSkill({
          // A private chat's id is its user's id: a user on the allow-list may be written to.
          allows: (chatId) => this.#router.allows(chatId, chatId),
          sendText: (chatId, text) => this.sendText(chatId, text),
        }),
      );
    }
  }

  /**
   * Checks the token (`getMe`: `AUTH_FAILED` when Telegram refuses it, the token never shown),
   * opens the update log, handles the updates a crash interrupted, starts reading replies and,
   * unless `polling: false` (webhooks), starts long polling.
   */
  start(options: { polling?: boolean } = {}): Promise<void> {
    this.#started ??= this.#start(options.polling ?? true).catch((error: unknown) => {
      this.#started = undefined; // a failed start (bad token, store down) may be tried again
      throw error;
    });
    return this.#started;
  }

  async #start(polling: boolean): Promise<void> {
    if (this.#closing !== undefined) throw new AgentrixError('CLOSED', 'This Telegram channel is closed');
    // Not `bot.init()`: it retries a network failure forever, and a wrong apiRoot must fail start().
    this.#bot.botInfo = await this.#api.call('getMe', () => this.#bot.api.getMe(this.#stop.signal as never));
    // Telegram refuses getUpdates (409) while a webhook is set: polling takes over, as grammY's own
    // `bot.start()` does. Updates waiting for the webhook are kept and come by polling.
    if (polling)
      await this.#api.call('deleteWebhook', () => this.#bot.api.deleteWebhook({}, this.#stop.signal as never));
    const log = this.#options.updates ?? (await this.#defaultLog());
    // Records of finished updates are kept a week: longer than Telegram redelivers anything.
    await log.prune(this.botId, this.#clock.now() - 7 * 24 * 3600_000);
    const interrupted = await log.unhandled(this.botId, 1000);
    // Nothing below fails: the channel is started.
    this.#log = log;
    this.#listen();
    this.#replyLoop = this.#readReplies();
    for (const record of interrupted) {
      this.#logger.info({ updateId: record.updateId }, 'telegram update interrupted by a restart; handling it');
      this.#schedule(record.update as Update, record.attempts);
    }
    if (polling) {
      this.#poller = new Poller({
        api: this.#api,
        clock: this.#clock,
        logger: this.#logger,
        timeoutSeconds: this.#options.pollTimeoutSeconds ?? 30,
        handle: (update) => this.handleUpdate(update),
      });
      this.#poller.start();
    }
  }

  async #defaultLog(): Promise<UpdateLog> {
    const store = this.#agentrix.store;
    return store === undefined ? new InMemoryUpdateLog() : openSqlUpdateLog(store.database);
  }

  /**
   * Records one update and queues it for handling (in order with its chat's other updates).
   * Resolves once it is recorded: from then on it is answered even if the process crashes.
   * A known update is not handled again (counted as a duplicate), unless a crash interrupted it.
   */
  async handleUpdate(update: Update): Promise<void> {
    const log = this.#requireStarted();
    if (typeof update !== 'object' || update === null || !Number.isSafeInteger(update.update_id)) {
      throw invalidArgument('Invalid Telegram update: expected an object with a numeric update_id');
    }
    const id = update.update_id;
    // The same update again while the first copy is still being recorded or handled (a webhook
    // retried before the first answer): the update log's answer may not say so yet.
    if (this.#recording.has(id) || this.#handling.has(id)) {
      this.#duplicate(id);
      return;
    }
    this.#recording.add(id);
    let recorded: Awaited<ReturnType<UpdateLog['record']>>;
    try {
      recorded = await log.record(this.botId, id, update, this.#clock.now());
    } finally {
      this.#recording.delete(id);
    }
    const { fresh, record } = recorded;
    // A known update still `received` is handled again only when nobody has touched it for a
    // while (a crash interrupted it); a recent one is another replica's, being handled now.
    const interrupted = record.status === 'received' && this.#clock.now() - record.updatedAt >= INTERRUPTED_AFTER_MS;
    if (!fresh && (!interrupted || this.#handling.has(id))) {
      this.#duplicate(id);
      return;
    }
    if (fresh) {
      this.#stats.received++;
      this.#events.emit('telegram.update-received', {
        botId: this.botId,
        updateId: update.update_id,
        kind: kindOf(update),
      });
    }
    this.#schedule(update, record.attempts);
  }

  #duplicate(updateId: number): void {
    this.#stats.duplicates++;
    this.#events.emit('telegram.update-duplicate', { botId: this.botId, updateId });
  }

  /**
   * A fetch-style webhook handler (mount it in Hono, Express through an adapter, `Bun.serve`, a
   * Node `http` server): checks `X-Telegram-Bot-Api-Secret-Token` when `webhookSecret` is set,
   * records the update and answers 200. A 500 (the update log unreachable) makes Telegram
   * deliver the update again later.
   */
  async webhook(request: Request): Promise<Response> {
    // Not started yet (or closing): Telegram delivers the update again later.
    if (this.#log === undefined || this.#closing !== undefined) return new Response('not ready', { status: 503 });
    const secret = this.#options.webhookSecret;
    if (secret !== undefined && request.headers.get('x-telegram-bot-api-secret-token') !== secret) {
      return new Response('forbidden', { status: 403 });
    }
    let update: Update;
    try {
      update = (await request.json()) as Update;
    } catch {
      return new Response('expected a JSON update', { status: 400 });
    }
    try {
      await this.handleUpdate(update);
      return new Response('ok');
    } catch (error) {
      const status = AgentrixError.isInstance(error) && error.code === 'INVALID_ARGUMENT' ? 400 : 500;
      this.#logger.error({ error: serializeError(error, { secrets: [this.#token] }) }, 'telegram webhook failed');
      return new Response(status === 400 ? 'invalid update' : 'try again', { status });
    }
  }

  /** Sends Markdown text to a chat (split at Telegram's limit); returns the message ids. */
  async sendText(chatId: number, text: string, options: { topicId?: number } = {}): Promise<number[]> {
    this.#requireStarted();
    const to: ChatAddress = { chatId, ...(options.topicId !== undefined ? { topicId: options.topicId } : {}) };
    const messageIds = await this.#api.sendText(to, text);
    this.#events.emit('telegram.replied', { botId: this.botId, chatId, messageIds });
    return messageIds;
  }

  /** Pushes a report to a chat: text as it is, or a `DailyReport` (the HQ's report) formatted. */
  async pushReport(chatId: number, report: string | DailyReport, options: { title?: string } = {}): Promise<number[]> {
    return this.sendText(chatId, typeof report === 'string' ? report : formatReport(report, options.title));
  }

  stats(): TelegramStats {
    return { ...this.#stats };
  }

  /** Resolves when every update queued so far has been handled (answers come later, from the agents). */
  async whenHandled(): Promise<void> {
    while (this.#chains.size > 0) await Promise.allSettled([...this.#chains.values()]);
  }

  /** Stops polling and reading replies, and waits for the updates being handled. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      await this.#poller?.stop();
      await this.whenHandled();
      await this.#replyLoop;
      for (const unsubscribe of this.#unsubscribe) unsubscribe();
      for (const stream of this.#streams.values()) stream.close();
      this.#streams.clear();
      this.#approvals.close();
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------- handling

  #requireStarted(): UpdateLog {
    if (this.#closing !== undefined) throw new AgentrixError('CLOSED', 'This Telegram channel is closed');
    if (this.#log === undefined) {
      throw new AgentrixError('INVALID_ARGUMENT', 'The Telegram channel is not started: await channel.start() first');
    }
    return this.#log;
  }

  /** Queues an update behind the other updates of its chat. */
  #schedule(update: Update, attemptsSoFar: number): void {
    const chat = chatOf(update);
    const key = chat === undefined ? `update:${update.update_id}` : `${chat.id}`;
    this.#handling.add(update.update_id);
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.#process(update, attemptsSoFar))
      .finally(() => {
        this.#handling.delete(update.update_id);
        if (this.#chains.get(key) === next) this.#chains.delete(key);
      });
    this.#chains.set(key, next);
  }

  /** Handles an update, with retries; one that keeps failing is dead-lettered with an apology. */
  async #process(update: Update, attemptsSoFar: number): Promise<void> {
    const log = this.#log as UpdateLog;
    const maxAttempts = this.#options.maxAttempts ?? 3;
    for (let attempt = attemptsSoFar + 1; ; attempt++) {
      try {
        await this.#bot.handleUpdate(update);
        const outcome = this.#outcomes.get(update.update_id) ?? { status: 'ignored' as const };
        await log.mark(this.botId, update.update_id, outcome.status, this.#clock.now(), {
          ...outcome.target,
          attempts: attempt,
        });
        return;
      } catch (thrown) {
        const error = unwrapBotError(thrown);
        const last = attempt >= maxAttempts || (AgentrixError.isInstance(error) && !error.isRetryable);
        if (last || this.#stop.signal.aborted) {
          if (!this.#stop.signal.aborted) await this.#deadLetter(update.update_id, chatAddressOf(update), error);
          return;
        }
        const delayMs = backoffDelay(attempt, { baseDelayMs: 500, maxDelayMs: 10_000 });
        this.#logger.warn(
          { updateId: update.update_id, attempt, delayMs, error: serializeError(error, { secrets: [this.#token] }) },
          'telegram update failed; retrying',
        );
        await log
          .mark(this.botId, update.update_id, 'received', this.#clock.now(), { attempts: attempt })
          .catch(() => {});
        await sleep(delayMs, { clock: this.#clock, signal: this.#stop.signal }).catch(() => {});
      } finally {
        this.#outcomes.delete(update.update_id);
      }
    }
  }

  /** Gives up on an update (or its answer): recorded as failed, and the user gets an apology. */
  async #deadLetter(updateId: number, to: ChatAddress | undefined, cause: unknown): Promise<void> {
    const error = serializeError(cause, { secrets: [this.#token] });
    this.#stats.deadLettered++;
    this.#logger.error({ updateId, error }, 'telegram update dead-lettered');
    this.#streams.get(this.#messageIdOf(updateId))?.close();
    this.#streams.delete(this.#messageIdOf(updateId));
    await this.#log
      ?.mark(this.botId, updateId, 'failed', this.#clock.now(), { error })
      .catch((failure: unknown) =>
        this.#logger.error({ updateId, error: serializeError(failure) }, 'telegram dead letter not recorded'),
      );
    this.#events.emit('telegram.dead-lettered', {
      botId: this.botId,
      updateId,
      ...(to !== undefined ? { chatId: Number(to.chatId) } : {}),
      error,
    });
    if (to !== undefined && !isUnreachable(cause)) {
      await this.#api
        .sendPlain(to, this.#texts.apology)
        .catch((failure: unknown) =>
          this.#logger.warn({ updateId, error: serializeError(failure) }, 'telegram apology not delivered'),
        );
    }
  }

  /** The id of the message that carries an update to its agent (the bus drops a second copy). */
  #messageIdOf(updateId: number): string {
    return `telegram:${this.botId}:${updateId}`;
  }

  #updateIdOf(messageId: string | undefined): number | undefined {
    const prefix = `telegram:${this.botId}:`;
    if (messageId === undefined || !messageId.startsWith(prefix)) return undefined;
    const id = Number(messageId.slice(prefix.length));
    return Number.isSafeInteger(id) ? id : undefined;
  }

  #installHandlers(): void {
    const bot = this.#bot;
    const done = (ctx: Context, status: UpdateStatus, target?: UpdateTarget) =>
      this.#outcomes.set(ctx.update.update_id, { status, ...(target !== undefined ? { target } : {}) });

    // Messages not meant for this bot: a command for another bot (`/status@other_bot`), and in a
    // group, talk that does not address it (see `groupMessages`). Ignored without a word.
    bot.on('message', async (ctx, next) => {
      if (this.#addressed(ctx)) return next();
      this.#ignore(ctx);
    });

    // The allow-list, before anything else: a stranger's message costs no model call.
    bot.on('message', async (ctx, next) => {
      if (this.#router.allows(ctx.chat.id, ctx.from?.id)) return next();
      this.#refuse(ctx, ctx.chat.id);
      await this.#say(ctx, addressOf(ctx), this.#texts.notAllowed);
      done(ctx, 'answered', { chatId: ctx.chat.id });
    });

    // A button press decides an approval: only an approver may, whatever chat the button is in
    // (a button of an inline message has no chat at all).
    bot.on('callback_query', async (ctx, next) => {
      if (this.#approvers.has(ctx.from.id)) return next();
      this.#refuse(ctx, ctx.chat?.id ?? ctx.from.id);
      await this.#answerCallback(ctx.callbackQuery.id, this.#texts.notAllowed);
      done(ctx, 'answered', ctx.chat !== undefined ? { chatId: ctx.chat.id } : undefined);
    });

    bot.command('start', async (ctx) => {
      await this.#say(ctx, addressOf(ctx), this.#texts.start);
      done(ctx, 'answered', { chatId: ctx.chat.id });
    });

    bot.command('reset', async (ctx) => {
      const to = addressOf(ctx);
      const route = this.#router.route(ctx.chat.id, to.topicId);
      let text = this.#texts.reset;
      try {
        await this.#agentrix.forget(route.agentId, route.threadId);
      } catch (error) {
        if (!AgentrixError.isInstance(error) || error.code !== 'THREAD_NOT_FOUND') throw error;
        text = this.#texts.nothingToReset;
      }
      await this.#say(ctx, to, text);
      done(ctx, 'answered', { chatId: ctx.chat.id, ...route });
    });

    bot.command('status', async (ctx) => {
      const to = addressOf(ctx);
      const route = this.#router.route(ctx.chat.id, to.topicId);
      await this.#say(ctx, to, await this.#status(route.agentId, route.threadId));
      done(ctx, 'answered', { chatId: ctx.chat.id, ...route });
    });

    bot.on('message:text', async (ctx) => {
      const to = addressOf(ctx);
      const target = { chatId: ctx.chat.id, ...(to.topicId !== undefined ? { topicId: to.topicId } : {}) };
      const max = this.#options.maxInputChars ?? 4096;
      if (ctx.message.text.length > max) {
        await this.#say(ctx, to, this.#texts.tooLong.replace('{max}', String(max)));
        done(ctx, 'answered', target);
        return;
      }
      const route = this.#router.route(ctx.chat.id, to.topicId);
      await this.#dispatch(ctx.update.update_id, ctx.message.text, ctx.from?.id, to, route);
      done(ctx, 'dispatched', { ...target, ...route });
    });

    bot.on('callback_query:data', async (ctx) => {
      const match = APPROVAL_DATA.exec(ctx.callbackQuery.data);
      if (match === null) {
        await this.#answerCallback(ctx.callbackQuery.id, 'This button does nothing any more.');
      } else {
        const [, approvalId, choice] = match as unknown as [string, string, 'y' | 'n'];
        await this.#answerCallback(ctx.callbackQuery.id, this.#decide(approvalId, choice, ctx.from.id));
      }
      done(ctx, 'answered', ctx.chat !== undefined ? { chatId: ctx.chat.id } : undefined);
    });

    // Files, stickers, photos, voice, locations...: a clear reply instead of silence.
    bot.on('message', async (ctx) => {
      await this.#say(ctx, addressOf(ctx), this.#texts.unsupported);
      done(ctx, 'answered', { chatId: ctx.chat.id });
    });

    // Everything else (edits, channel posts, polls, reactions, ...): counted, not answered.
    bot.use((ctx) => this.#ignore(ctx));
  }

  #ignore(ctx: Context): void {
    this.#stats.ignored++;
    this.#events.emit('telegram.update-ignored', {
      botId: this.botId,
      updateId: ctx.update.update_id,
      kind: kindOf(ctx.update),
    });
    this.#outcomes.set(ctx.update.update_id, { status: 'ignored' });
  }

  #refuse(ctx: Context, chatId: number): void {
    this.#stats.refused++;
    this.#events.emit('telegram.refused', {
      botId: this.botId,
      updateId: ctx.update.update_id,
      chatId,
      ...(ctx.from !== undefined ? { userId: ctx.from.id } : {}),
    });
  }

  /** Whether a message is for this bot (see `groupMessages`); a command for another bot never is. */
  #addressed(ctx: Context): boolean {
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
    if (message.chat.type === 'private' || this.#options.groupMessages === 'all') return true;
    if (message.reply_to_message?.from?.id === ctx.me.id) return true;
    return entities.some(
      (entity) =>
        (entity.type === 'mention' &&
          text.slice(entity.offset + 1, entity.offset + entity.length).toLowerCase() === me) ||
        (entity.type === 'text_mention' && entity.user.id === ctx.me.id),
    );
  }

  /** The toast of a button press: a press answered late (Telegram allows 15 s or so) is still decided. */
  async #answerCallback(id: string, text: string): Promise<void> {
    await this.#api
      .answerCallback(id, text)
      .catch((error: unknown) =>
        this.#logger.warn({ error: serializeError(error) }, 'telegram button press not acknowledged'),
      );
  }

  /** Answers an update with a text of the channel's own (no model call). */
  async #say(ctx: Context, to: ChatAddress, text: string): Promise<void> {
    const messageIds = await this.#api.sendText(to, text);
    this.#events.emit('telegram.replied', {
      botId: this.botId,
      chatId: Number(to.chatId),
      messageIds,
      updateId: ctx.update.update_id,
    });
  }

  /** Hands a text to the chat's agent over the bus, with typing shown until the answer streams in. */
  async #dispatch(
    updateId: number,
    text: string,
    userId: number | undefined,
    to: ChatAddress,
    route: { agentId: string; threadId: string },
  ): Promise<void> {
    const id = this.#messageIdOf(updateId);
    if (!this.#streams.has(id)) {
      const interval = this.#options.streamEditIntervalMs;
      const stream = new ReplyStream({
        api: this.#api,
        to,
        clock: this.#clock,
        logger: this.#logger,
        editIntervalMs: interval === undefined ? 1000 : interval,
        typingIntervalMs: this.#options.typingIntervalMs ?? 4500,
        // Kept, so that after a crash the answer replaces the partial one instead of following it.
        onShown: (shownMessageId) => {
          this.#log
            ?.mark(this.botId, updateId, 'dispatched', this.#clock.now(), { shownMessageId })
            .catch((error: unknown) =>
              this.#logger.warn({ updateId, error: serializeError(error) }, 'telegram streamed message not recorded'),
            );
        },
      });
      this.#streams.set(id, stream);
      stream.startTyping();
    }
    try {
      await this.#agentrix.send({
        id,
        to: route.agentId,
        from: userId === undefined ? 'channel:telegram' : `telegram:${userId}`,
        replyTo: this.inbox,
        threadId: route.threadId,
        content: text,
        data: { telegram: { chatId: to.chatId, topicId: to.topicId, userId, updateId } },
      });
    } catch (error) {
      this.#streams.get(id)?.close();
      this.#streams.delete(id);
      throw error;
    }
    this.#stats.dispatched++;
  }

  async #status(agentId: string, threadId: string): Promise<string> {
    const lines: string[] = [];
    if (this.#agentrix.has(agentId)) {
      const info = this.#agentrix.get(agentId);
      lines.push(`Agent **${info.name}**: ${info.state}${info.pause ? ` (${info.pause.kind})` : ''}.`);
    } else {
      lines.push(`Agent **${agentId}** runs in another process.`);
    }
    const context = await this.#agentrix.contexts.load(agentId, threadId);
    lines.push(`This conversation: ${context.turns} turns, ${context.messages.length} messages remembered.`);
    return lines.join('\n');
  }

  #decide(approvalId: string, choice: 'y' | 'n', userId: number): string {
    const by = `telegram:${userId}`;
    try {
      if (choice === 'y') this.#agentrix.approve(approvalId, { by });
      else this.#agentrix.reject(approvalId, `rejected in Telegram by ${by}`, { by });
      return choice === 'y' ? 'Approved' : 'Rejected';
    } catch (error) {
      if (AgentrixError.isInstance(error) && error.code === 'INVALID_ARGUMENT') {
        return 'This request was already decided or has expired.';
      }
      throw error;
    }
  }

  #chatOfTurn(turnId: string): ChatAddress | undefined {
    const turn = this.#turns.get(turnId);
    return turn === undefined ? undefined : this.#streams.get(turn.messageId)?.to;
  }

  // ---------------------------------------------------------------- events and replies

  #listen(): void {
    const events = this.#events;
    const on = <K extends AgentrixEventName>(name: K, listener: (event: AgentrixEventMap[K]) => void) => {
      events.on(name, listener as never);
      this.#unsubscribe.push(() => events.off(name, listener as never));
    };
    on('turn.started', (event) => {
      const stream = this.#streams.get(event.messageId);
      if (stream === undefined) return;
      stream.restart();
      this.#turns.set(event.turnId, { messageId: event.messageId, step: 0 });
    });
    on('model.token', (event) => {
      const turn = this.#turns.get(event.turnId);
      if (turn === undefined) return;
      const stream = this.#streams.get(turn.messageId);
      if (turn.step !== event.step) {
        turn.step = event.step;
        stream?.restart(); // a new model step: show its words, not the last step's
      }
      stream?.push(event.text);
    });
    on('turn.completed', (event) => this.#turns.delete(event.turnId));
    on('turn.failed', (event) => this.#turns.delete(event.turnId));
    on('approval.requested', (event) => this.#approvals.requested(event.request));
    on('approval.resolved', (event) => this.#approvals.resolved(event.request.id, event.outcome, event.by));
  }

  /** The one loop reading the agents' replies from the channel's inbox, until close. */
  async #readReplies(): Promise<void> {
    const bus = this.#agentrix.bus;
    const signal = this.#stop.signal;
    const consumer = `telegram-${this.botId}`;
    let failures = 0;
    while (!signal.aborted) {
      if (this.#delivering.size >= MAX_DELIVERIES) {
        await Promise.race(this.#delivering);
        continue;
      }
      let deliveries: Delivery[];
      try {
        deliveries = await bus.read(this.inbox, { consumer, max: MAX_DELIVERIES - this.#delivering.size, signal });
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        if (AgentrixError.isInstance(error) && error.code === 'CLOSED') {
          this.#logger.warn({}, 'telegram reply inbox closed: close the channel before the runtime');
          break;
        }
        failures++;
        const delayMs = backoffDelay(failures, { baseDelayMs: 100, maxDelayMs: 5_000 });
        this.#logger.warn(
          { attempt: failures, delayMs, error: serializeError(error) },
          'telegram reply inbox unreadable',
        );
        await sleep(delayMs, { clock: this.#clock, signal, background: true }).catch(() => {});
        continue;
      }
      for (const delivery of deliveries) this.#queueDelivery(delivery);
    }
    await Promise.all(this.#delivering);
  }

  /** Delivers an answer after the answers before it in its conversation; other conversations go on meanwhile. */
  #queueDelivery(delivery: Delivery): void {
    const { envelope } = delivery;
    const key = envelope.threadId ?? envelope.inReplyTo ?? delivery.deliveryId;
    const next = (this.#replyChains.get(key) ?? Promise.resolve()).then(() => this.#deliver(delivery));
    this.#replyChains.set(key, next);
    this.#delivering.add(next);
    void next.finally(() => {
      this.#delivering.delete(next);
      if (this.#replyChains.get(key) === next) this.#replyChains.delete(key);
    });
  }

  /** Delivers one reply to its chat, then acks it; a failure is retried by the bus, then dead-lettered. */
  async #deliver(delivery: Delivery): Promise<void> {
    const bus = this.#agentrix.bus;
    const { envelope } = delivery;
    try {
      await this.#answer(envelope, delivery.attempt >= bus.maxDeliveries);
      await bus.ack(this.inbox, [delivery.deliveryId]);
    } catch (error) {
      this.#logger.warn(
        {
          messageId: envelope.inReplyTo,
          attempt: delivery.attempt,
          error: serializeError(error, { secrets: [this.#token] }),
        },
        'telegram answer not delivered; retrying',
      );
      const delayMs = backoffDelay(delivery.attempt, { baseDelayMs: 1000, maxDelayMs: 30_000 });
      await sleep(delayMs, { clock: this.#clock, signal: this.#stop.signal }).catch(() => {});
      await bus.nack(this.inbox, delivery.deliveryId, { error }).catch(() => {});
    }
  }

  async #answer(envelope: MessageEnvelope, lastAttempt: boolean): Promise<void> {
    const updateId = this.#updateIdOf(envelope.inReplyTo);
    if (updateId === undefined) return; // not an answer to a chat message
    const record = await this.#log!.get(this.botId, updateId);
    if (record === undefined || record.status === 'answered' || record.status === 'failed') return;
    const to = chatAddressOf(record.update as Update);
    if (to === undefined) return;
    const messageId = this.#messageIdOf(updateId);
    if (envelope.type === 'error') {
      await this.#deadLetter(updateId, to, errorOfReply(envelope));
      return;
    }
    const stream =
      this.#streams.get(messageId) ??
      new ReplyStream({
        api: this.#api,
        to,
        clock: this.#clock,
        logger: this.#logger,
        editIntervalMs: false,
        typingIntervalMs: 4500,
        ...(record.shownMessageId !== undefined ? { messageId: record.shownMessageId } : {}),
      });
    this.#streams.set(messageId, stream);
    try {
      const messageIds = await stream.finish(envelope.content.trim() === '' ? this.#texts.empty : envelope.content);
      this.#streams.delete(messageId);
      await this.#log!.mark(this.botId, updateId, 'answered', this.#clock.now(), { chatId: Number(to.chatId) });
      this.#stats.answered++;
      this.#events.emit('telegram.replied', { botId: this.botId, chatId: Number(to.chatId), messageIds, updateId });
    } catch (error) {
      // Blocked by the user, kicked from the group, chat gone: no retry or apology can reach it.
      if (lastAttempt || isUnreachable(error)) {
        await this.#deadLetter(updateId, to, error);
        return;
      }
      throw error;
    }
  }
}

function kindOf(update: Update): string {
  return Object.keys(update).find((key) => key !== 'update_id') ?? 'unknown';
}

function chatOf(update: Update): { id: number } | undefined {
  return update.message?.chat ?? update.callback_query?.message?.chat ?? undefined;
}

function chatAddressOf(update: Update): ChatAddress | undefined {
  const chat = chatOf(update);
  if (chat === undefined) return undefined;
  const message = update.message;
  const topicId = message?.is_topic_message === true ? message.message_thread_id : undefined;
  return { chatId: chat.id, ...(topicId !== undefined ? { topicId } : {}) };
}

function addressOf(ctx: Context): ChatAddress {
  const message = ctx.message;
  const topicId = message?.is_topic_message === true ? message.message_thread_id : undefined;
  return { chatId: (ctx.chat as { id: number }).id, ...(topicId !== undefined ? { topicId } : {}) };
}

/** grammY wraps what a middleware throws in a `BotError` whose `error` is the original. */
function unwrapBotError(thrown: unknown): unknown {
  const inner = (thrown as { error?: unknown } | null)?.error;
  return thrown instanceof Error && thrown.name === 'BotError' && inner !== undefined ? inner : thrown;
}

function errorOfReply(envelope: MessageEnvelope): SerializedError {
  const error = (envelope.data as { error?: SerializedError } | undefined)?.error;
  return error ?? { name: 'AgentrixError', message: envelope.content || 'The agent could not answer' };
}

/** Telegram will not deliver to this chat (403: blocked by the user, kicked; 400: chat not found). */
function isUnreachable(error: unknown): boolean {
  const status = statusOf(error);
  return status === 403 || (status === 400 && /chat not found/i.test(String((error as Error).message)));
}
