import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import TelegramServer from 'telegram-test-api';

/** One Bot API call the bot made (through the proxy). */
export interface BotApiCall {
  /** The bot's id (the token's part before the colon). */
  botId: string;
  method: string;
  body: Record<string, unknown>;
  at: number;
}

/** What the proxy does instead of forwarding the next call of a method. */
export type BotApiFault =
  /** A 429 with `parameters.retry_after` (seconds). */
  | { status: 429; retryAfter: number }
  /** Any other Bot API error status (500, 502, 400, ...). */
  | { status: number; description?: string }
  /** The connection is dropped without an answer. */
  | 'network';

/** A message the bot has in a chat, as it reads now (after its edits). */
export interface BotMessage {
  messageId: number;
  text: string;
  replyMarkup?: { inline_keyboard?: { text: string; callback_data?: string }[][] };
}

export interface FakeBotApiOptions {
  /** Tokens the fake answers 401 to (a revoked or mistyped token). */
  refusedTokens?: readonly string[];
}

/**
 * A fake Telegram Bot API on localhost for tests and offline demos: `telegram-test-api` (npm)
 * keeps users' and bot's messages and serves the Bot API over HTTP; a small proxy in front of
 * it records every call, answers what the fake lacks (`sendChatAction`), answers 401 to refused
 * tokens, and injects faults (a 429 with `retry_after`, a 5xx, a dropped connection) on demand.
 * Give the bot `apiRoot` and talk to it with {@link FakeBotApi.sendText}.
 */
export class FakeBotApi {
  readonly apiRoot: string;
  readonly calls: BotApiCall[] = [];
  readonly server: TelegramServer;
  readonly #proxy: Server;
  readonly #upstream: string;
  readonly #faults = new Map<string, { fault: BotApiFault; chatId?: number }[]>();
  readonly #refused: Set<string>;

  private constructor(server: TelegramServer, proxy: Server, apiRoot: string, options: FakeBotApiOptions) {
    this.server = server;
    this.#proxy = proxy;
    this.apiRoot = apiRoot;
    this.#upstream = server.config.apiURL;
    this.#refused = new Set(options.refusedTokens ?? []);
  }

  static async start(options: FakeBotApiOptions = {}): Promise<FakeBotApi> {
    // telegram-test-api takes `port: 0` for its default 9000: reserve a free port first.
    const port = await freePort();
    const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 600 });
    await server.start();
    let fake: FakeBotApi | undefined;
    const proxy = createServer((request, response) => {
      void fake?.handle(request, response);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    fake = new FakeBotApi(server, proxy, `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, options);
    return fake;
  }

  /**
   * The next `times` calls of `method` (to `chatId` when given) get `fault` instead of an answer
   * from the fake. A number is `times`.
   */
  failNext(method: string, fault: BotApiFault, options: number | { times?: number; chatId?: number } = 1): void {
    const { times = 1, chatId } = typeof options === 'number' ? { times: options } : options;
    const queue = this.#faults.get(method) ?? [];
    for (let index = 0; index < times; index++) queue.push({ fault, ...(chatId !== undefined ? { chatId } : {}) });
    this.#faults.set(method, queue);
  }

  /** A user writes `text` to the bot (an update the bot gets from `getUpdates`). */
  async sendText(
    token: string,
    text: string,
    from: { chatId: number; userId?: number; type?: 'private' | 'group' | 'supergroup' },
  ): Promise<void> {
    const client = this.#client(token, from);
    const message = text.startsWith('/') ? client.makeCommand(text) : client.makeMessage(text);
    await (text.startsWith('/') ? client.sendCommand(message) : client.sendMessage(message));
  }

  /** A user sends something that is not text (a sticker, a photo): `fields` are added to the message. */
  async sendMessage(
    token: string,
    fields: Record<string, unknown>,
    from: { chatId: number; userId?: number },
  ): Promise<void> {
    const client = this.#client(token, from);
    const message = client.makeMessage('', fields) as Record<string, unknown>;
    delete message.text;
    await this.server.addUserMessage(message as never);
  }

  /** A user presses an inline button whose `callback_data` is `data`. */
  async pressButton(token: string, data: string, from: { chatId: number; userId?: number }): Promise<void> {
    const client = this.#client(token, from);
    await client.sendCallback(client.makeCallbackQuery(data));
  }

  /** The bot's messages in a chat, oldest first, with their text as edited since. */
  messages(token: string, chatId: number): BotMessage[] {
    return this.server.storage.botMessages
      .filter((stored) => stored.botToken === token && String(stored.message.chat_id) === String(chatId))
      .map((stored) => {
        const message = stored.message as { text: string; reply_markup?: BotMessage['replyMarkup'] };
        return {
          messageId: stored.messageId,
          text: message.text,
          ...(message.reply_markup !== undefined ? { replyMarkup: message.reply_markup } : {}),
        };
      });
  }

  /** Calls of `method` by the bot of `token` (to `chatId` when given). */
  callsOf(token: string, method: string, chatId?: number): BotApiCall[] {
    const botId = token.split(':')[0];
    return this.calls.filter(
      (call) =>
        call.botId === botId &&
        call.method === method &&
        (chatId === undefined || String(call.body.chat_id) === String(chatId)),
    );
  }

  /** Waits until `check` returns something truthy (polling every 10 ms), or fails after `timeoutMs`. */
  async waitFor<T>(check: () => T | undefined | false, timeoutMs = 5_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`FakeBotApi: ${what} not met within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async close(): Promise<void> {
    this.#proxy.closeAllConnections();
    await new Promise<void>((resolve) => this.#proxy.close(() => resolve()));
    await this.server.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #client(token: string, from: { chatId: number; userId?: number; type?: 'private' | 'group' | 'supergroup' }) {
    return this.server.getClient(token, {
      chatId: from.chatId,
      userId: from.userId ?? from.chatId,
      ...(from.type !== undefined ? { type: from.type } : {}),
    });
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(request.url ?? '/', this.apiRoot).pathname);
    if (match !== null) {
      const [, token, method] = match as unknown as [string, string, string];
      let body: Record<string, unknown> = {};
      try {
        body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        // form-encoded or empty: recorded as {}
      }
      this.calls.push({ botId: token.split(':')[0] as string, method, body, at: Date.now() });
      if (this.#refused.has(token))
        return json(response, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
      const queue = this.#faults.get(method) ?? [];
      const index = queue.findIndex(
        (entry) => entry.chatId === undefined || String(entry.chatId) === String(body.chat_id),
      );
      const fault = index === -1 ? undefined : queue.splice(index, 1)[0]?.fault;
      if (fault === 'network') {
        request.socket.destroy();
        return;
      }
      if (fault !== undefined) {
        const retryAfter = 'retryAfter' in fault ? fault.retryAfter : undefined;
        return json(response, fault.status, {
          ok: false,
          error_code: fault.status,
          description:
            retryAfter !== undefined
              ? `Too Many Requests: retry after ${retryAfter}`
              : ('description' in fault && fault.description) || 'Internal Server Error',
          ...(retryAfter !== undefined ? { parameters: { retry_after: retryAfter } } : {}),
        });
      }
      // The fake lacks these; Telegram answers `true`.
      if (method === 'sendChatAction') return json(response, 200, { ok: true, result: true });
    }
    const upstream = await fetch(`${this.#upstream}${request.url ?? '/'}`, {
      method: request.method ?? 'POST',
      headers: { 'content-type': request.headers['content-type'] ?? 'application/json' },
      ...(request.method === 'GET' || request.method === 'HEAD' ? {} : { body: raw }),
    });
    const text = await upstream.text();
    response.writeHead(upstream.status, { 'content-type': 'application/json' });
    response.end(text);
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
