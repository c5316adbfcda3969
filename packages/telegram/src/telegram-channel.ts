import {
  AgentrixError,
  type AgentrixEventMap,
  type AgentrixEventName,
  type AgentrixEvents,
  backoffDelay,
  type Clock,
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
import { Bot } from 'grammy';
import type { Update } from 'grammy/types';
import { AnswerStreams } from './answer-streams.js';
import { ApprovalButtons } from './approval-buttons.js';
import { statusOf, telegramError } from './errors.js';
import { Poller } from './poller.js';
import { RateLimiter } from './rate-limiter.js';
import { readReplies } from './reply-inbox.js';
import { type DailyReport, formatReport } from './report.js';
import { retryTransformer } from './retry-transformer.js';
import { ChatRouter } from './routing.js';
import { createSendTelegramSkill } from './send-telegram-skill.js';
import { openSqlUpdateLog } from './sql-update-log.js';
import { type ChatAddress, TelegramApi } from './telegram-api.js';
import type { TelegramChannelOptions } from './telegram-options.js';
import { emptyStats, type TelegramStats } from './telegram-stats.js';
import { DEFAULT_TEXTS, type TelegramTexts } from './texts.js';
import { chatAddressOf, chatOf, kindOf } from './update-fields.js';
import { installUpdateHandlers, type Outcome } from './update-handlers.js';
import { InMemoryUpdateLog, type UpdateLog } from './update-log.js';

/** Telegram bot tokens are `<bot id>:<secret>`. */
const TOKEN = /^(\d{1,20}):[A-Za-z0-9_-]{20,}$/;
/**
 * A recorded update nobody has marked for this long was interrupted by a crash: a copy arriving
 * now is handled. Handling marks the record at each attempt, the longest pause between two
 * marks is the retry backoff (10 s at most).
 */
const INTERRUPTED_AFTER_MS = 60_000;

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
  readonly #stats = emptyStats();
  #log: UpdateLog | undefined;
  readonly #streams: AnswerStreams;
  /** The outcome of the update being handled by grammY (set by the middleware). */
  readonly #outcomes = new Map<number, Outcome>();
  /** Updates being handled in this process. */
  readonly #handling = new Set<number>();
  /** Updates being written to the update log by `handleUpdate` now. */
  readonly #recording = new Set<number>();
  /** The chain of each chat (its updates in order). */
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
    const interval = options.streamEditIntervalMs;
    this.#streams = new AnswerStreams({
      api: this.#api,
      clock: this.#clock,
      logger: this.#logger,
      editIntervalMs: interval === undefined ? 1000 : interval,
      typingIntervalMs: options.typingIntervalMs ?? 4500,
    });
    this.#approvals = new ApprovalButtons({
      api: this.#api,
      logger: this.#logger,
      chatOfTurn: (turnId) => this.#streams.chatOfTurn(turnId),
      ...(options.approvalsChatId !== undefined ? { fallbackChatId: options.approvalsChatId } : {}),
    });
    installUpdateHandlers(this.#bot, {
      botId: this.botId,
      agentrix,
      api: this.#api,
      router: this.#router,
      approvers: this.#approvers,
      texts: this.#texts,
      events: this.#events,
      logger: this.#logger,
      stats: this.#stats,
      groupMessages: options.groupMessages,
      maxInputChars: options.maxInputChars ?? 4096,
      outcomes: this.#outcomes,
      dispatch: (updateId, text, userId, to, route) => this.#dispatch(updateId, text, userId, to, route),
    });
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
    this.#replyLoop = readReplies({
      bus: this.#agentrix.bus,
      inbox: this.inbox,
      consumer: `telegram-${this.botId}`,
      clock: this.#clock,
      logger: this.#logger,
      secrets: [this.#token],
      signal: this.#stop.signal,
      answer: (envelope, lastAttempt) => this.#answer(envelope, lastAttempt),
    });
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
      this.#streams.close();
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
    this.#streams.drop(this.#messageIdOf(updateId));
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

  /** Hands a text to the chat's agent over the bus, with typing shown until the answer streams in. */
  async #dispatch(
    updateId: number,
    text: string,
    userId: number | undefined,
    to: ChatAddress,
    route: { agentId: string; threadId: string },
  ): Promise<void> {
    const id = this.#messageIdOf(updateId);
    // The shown message is kept, so that after a crash the answer replaces the partial one instead of following it.
    this.#streams.open(id, to, (shownMessageId) => {
      this.#log
        ?.mark(this.botId, updateId, 'dispatched', this.#clock.now(), { shownMessageId })
        .catch((error: unknown) =>
          this.#logger.warn({ updateId, error: serializeError(error) }, 'telegram streamed message not recorded'),
        );
    });
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
      this.#streams.drop(id);
      throw error;
    }
    this.#stats.dispatched++;
  }

  // ---------------------------------------------------------------- events and replies

  #listen(): void {
    const events = this.#events;
    const on = <K extends AgentrixEventName>(name: K, listener: (event: AgentrixEventMap[K]) => void) => {
      events.on(name, listener as never);
      this.#unsubscribe.push(() => events.off(name, listener as never));
    };
    on('turn.started', (event) => this.#streams.turnStarted(event.turnId, event.messageId));
    on('model.token', (event) => this.#streams.token(event.turnId, event.step, event.text));
    on('turn.completed', (event) => this.#streams.turnEnded(event.turnId));
    on('turn.failed', (event) => this.#streams.turnEnded(event.turnId));
    on('approval.requested', (event) => this.#approvals.requested(event.request));
    on('approval.resolved', (event) => this.#approvals.resolved(event.request.id, event.outcome, event.by));
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
    try {
      const text = envelope.content.trim() === '' ? this.#texts.empty : envelope.content;
      const messageIds = await this.#streams.finish(messageId, to, text, record.shownMessageId);
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
