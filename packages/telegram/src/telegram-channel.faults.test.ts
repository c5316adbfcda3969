// What a real bot meets: rate limits of one chat holding up others, the same webhook twice at
// once, groups, stray button presses, deleted messages, logs at debug, a stop during a long poll.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentrixError, type Logger, silentLogger, systemClock } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { Bot } from 'grammy';
import type { Update } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelTests, collect, TRANSFER_SCRIPT, transferSkill } from './channel-test-support.js';
import { ReplyStream } from './reply-stream.js';
import { TelegramApi } from './telegram-api.js';
import { TelegramChannel } from './telegram-channel.js';
import { SlowStreamModel, testToken } from './test-support.js';
import { FakeBotApi } from './testing/index.js';
import { InMemoryUpdateLog } from './update-log.js';

const REFUSED = '2222:refusedrefusedrefusedrefused00';
let fake: FakeBotApi;
beforeAll(async () => {
  fake = await FakeBotApi.start({ refusedTokens: [REFUSED] });
});
afterAll(() => fake.close());
const { open, setup } = channelTests(() => fake, {
  streamEditIntervalMs: false,
  limits: { privateChatIntervalMs: 0, groupChatIntervalMs: 0 },
});

let nextUpdateId = 10_000;
/** A text message update as Telegram sends it. */
function textUpdate(
  text: string,
  chat: { id: number; type: 'private' | 'group' | 'supergroup' },
  userId: number,
  more: Record<string, unknown> = {},
): Update {
  return {
    update_id: nextUpdateId++,
    message: {
      message_id: nextUpdateId,
      date: 0,
      chat: chat.type === 'private' ? { ...chat, first_name: 'Ada' } : { ...chat, title: 'Team' },
      from: { id: userId, is_bot: false, first_name: 'Ada' },
      text,
      ...more,
    },
  } as Update;
}

describe('replies', () => {
  it("one chat waiting out a 429 holds back no other chat's answer", async () => {
    const { channel, token } = await setup({ fallback: { text: 'answer' } }, { allow: { users: [7, 8] } });
    fake.failNext('sendMessage', { status: 429, retryAfter: 1 }, { chatId: 7 });
    await fake.sendText(token, 'first', { chatId: 7 });
    await fake.waitFor(() => fake.callsOf(token, 'sendMessage', 7).length === 1); // chat 7 is now waiting 1 s
    await fake.sendText(token, 'second', { chatId: 8 });
    await fake.waitFor(() => fake.messages(token, 8).length === 1 || fake.messages(token, 7).length === 1);
    expect(fake.messages(token, 7)).toEqual([]); // chat 8 was answered first
    await fake.waitFor(() => fake.messages(token, 7)[0]?.text === 'answer', 3_000);
    await fake.waitFor(() => channel.stats().answered === 2);
  });

  it('streamed edits of one chat keep its spacing from the previous send (private chat interval)', async () => {
    const words = Array.from({ length: 12 }, (_, index) => `word${index}`).join(' ');
    const { token } = await setup(new SlowStreamModel(new MockLLM({ script: [{ text: words }] }), 25), {
      streamEditIntervalMs: 20,
      limits: { privateChatIntervalMs: 150 },
    });
    await fake.sendText(token, 'stream please', { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7)[0]?.text === words);
    const sends = [...fake.callsOf(token, 'sendMessage', 7), ...fake.callsOf(token, 'editMessageText', 7)]
      .map((call) => call.at)
      .sort((a, b) => a - b);
    expect(sends.length).toBeGreaterThanOrEqual(3);
    for (let index = 1; index < sends.length; index++) {
      expect(sends[index]! - sends[index - 1]!).toBeGreaterThanOrEqual(148);
    }
  });

  it('an edit the user deleted becomes a new message; "not modified" is no error', async () => {
    const token = testToken(1000 + Math.floor(Math.random() * 1e6));
    const bot = new Bot(token, { client: { apiRoot: fake.apiRoot } });
    const api = new TelegramApi(bot.api, token);
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (_fields, message) => warnings.push(message) };
    const stream = (to: number) =>
      new ReplyStream({
        api,
        to: { chatId: to },
        clock: systemClock,
        logger,
        editIntervalMs: 5,
        typingIntervalMs: 10_000,
      });

    const deleted = stream(7);
    deleted.push('partial');
    await fake.waitFor(() => fake.messages(token, 7).length === 1);
    fake.failNext('editMessageText', { status: 400, description: 'Bad Request: message to edit not found' });
    const ids = await deleted.finish('**final**');
    const messages = fake.messages(token, 7);
    expect(messages.map((message) => message.text)).toEqual(['partial …', '<b>final</b>']);
    expect(ids).toEqual([messages[1]?.messageId]);
    expect(warnings).toContain('streamed message gone; answer sent as a new message');

    const same = stream(8);
    same.push('same');
    await fake.waitFor(() => fake.messages(token, 8).length === 1);
    fake.failNext('editMessageText', {
      status: 400,
      description:
        'Bad Request: message is not modified: specified new message content and reply markup are exactly the same',
    });
    expect(await same.finish('same')).toEqual([fake.messages(token, 8)[0]?.messageId]);
  });

  it('a failed typing indicator is not sent again later (it would show "typing..." after the answer)', async () => {
    const { token } = await setup({ fallback: { text: 'done' } }, { retry: { baseDelayMs: 5, maxDelayMs: 10 } });
    fake.failNext('sendChatAction', { status: 502 });
    await fake.sendText(token, 'hi', { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7)[0]?.text === 'done');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fake.callsOf(token, 'sendChatAction', 7)).toHaveLength(1);
  });

  it('an answer to a user who blocked the bot is dead-lettered at once: no retry, no apology', async () => {
    const { agentrix, token } = await setup({ fallback: { text: 'never read' } });
    const dead = collect(agentrix, 'telegram.dead-lettered');
    fake.failNext('sendMessage', { status: 403, description: 'Forbidden: bot was blocked by the user' }, { chatId: 7 });
    await fake.sendText(token, 'hi', { chatId: 7 });
    await fake.waitFor(() => dead.length === 1, 900); // a retry would wait 1 s first
    expect(dead[0]?.error).toMatchObject({ code: 'CHANNEL_ERROR', details: { status: 403 } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fake.callsOf(token, 'sendMessage', 7)).toHaveLength(1); // not even the apology
  });
});

describe('updates', () => {
  it('polling takes over from a webhook left set (Telegram refuses getUpdates while one is)', async () => {
    const token = testToken(1000 + Math.floor(Math.random() * 1e6));
    fake.server.setWebhook({ url: 'http://127.0.0.1:9/gone' } as never, token);
    await setup({ fallback: { text: 'by polling' } }, { token });
    await fake.sendText(token, 'hi', { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7)[0]?.text === 'by polling');
  });

  it('the same webhook update twice at once, the first still being recorded, is answered once', async () => {
    // A store whose insert is slow and whose read is quick: the second copy learns of the first
    // from the log before the first copy's insert has returned.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const updates = new (class extends InMemoryUpdateLog {
      override async record(...args: Parameters<InMemoryUpdateLog['record']>) {
        const result = await super.record(...args);
        if (result.fresh) await held;
        return result;
      }
    })();
    const { channel, token } = await setup({ fallback: { text: 'no' } }, { updates, polling: false });
    const update = textUpdate('/start', { id: 7, type: 'private' }, 7, {
      entities: [{ type: 'bot_command', offset: 0, length: 6 }],
    });
    const request = () =>
      channel.webhook(
        new Request('http://localhost/telegram', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(update),
        }),
      );
    const first = request();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = request();
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    expect((await Promise.all([first, second])).map((response) => response.status)).toEqual([200, 200]);
    await channel.whenHandled();
    expect(fake.messages(token, 7)).toHaveLength(1);
    expect(channel.stats()).toMatchObject({ received: 1, duplicates: 1 });
  });

  it('groups: commands for another bot and talk not addressed to the bot are ignored; mentions, replies and /cmd@thisbot are answered', async () => {
    const group = { id: -1001, type: 'supergroup' as const };
    const {
      agentrix,
      channel,
      token,
      model: mock,
    } = await setup({ fallback: { text: 'hi group' } }, { allow: { chats: [group.id] }, polling: false });
    const bot = 'TestNameBot'; // the fake's getMe
    const command = (text: string, chat: { id: number; type: 'private' | 'supergroup' } = group) =>
      textUpdate(text, chat, 55, {
        entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }],
      });
    const handle = async (update: Update) => {
      await channel.handleUpdate(update);
      await channel.whenHandled();
    };
    await handle(command('/status@OtherBot'));
    await handle(textUpdate('lunch anyone?', group, 55));
    await handle(command('/start@other_bot', { id: 7, type: 'private' }));
    const sticker = textUpdate('', group, 55, { sticker: { file_id: 's', width: 1, height: 1 } });
    delete (sticker.message as { text?: string }).text;
    await handle(sticker); // in a group and not addressed to the bot: not even the unsupported-kind reply
    await handle({
      update_id: nextUpdateId++,
      channel_post: {
        message_id: 1,
        date: 0,
        chat: { id: -1009, type: 'channel', title: 'News' },
        text: '@TestNameBot hi',
      },
    } as Update);
    expect(fake.messages(token, group.id)).toEqual([]);
    expect(fake.messages(token, 7)).toEqual([]);
    expect(channel.stats().ignored).toBe(5);
    expect(mock.calls).toBe(0);

    await handle(command(`/status@${bot}`));
    expect(fake.messages(token, group.id)[0]?.text).toMatch(/Agent <b>assistant<\/b>/);
    const replied = collect(agentrix, 'telegram.replied');
    await handle(
      textUpdate(`@${bot} what is 2+2?`, group, 55, { entities: [{ type: 'mention', offset: 0, length: 12 }] }),
    );
    await fake.waitFor(() => replied.length === 1);
    const botMessage = { message_id: 1, date: 0, chat: group, from: { id: 666, is_bot: true, first_name: 'Bot' } };
    await handle(textUpdate('and 3+3?', group, 55, { reply_to_message: botMessage }));
    await fake.waitFor(() => replied.length === 2);
    expect(mock.calls).toBe(2);
    expect(fake.messages(token, group.id).map((message) => message.text)).toEqual([
      expect.stringMatching(/Agent/),
      'hi group',
      'hi group',
    ]);
  });

  it('a button press decides an approval only from an approver: not a stranger, not an inline message, not a mere member', async () => {
    const { skill: transfer, transfers } = transferSkill();
    const group = -1002;
    const { agentrix, channel, token } = await setup(TRANSFER_SCRIPT, {
      skills: [transfer],
      allow: { users: [7], chats: [group] },
      approvalsChatId: group,
    });
    const dead = collect(agentrix, 'telegram.dead-lettered');
    const asked = agentrix.ask('assistant', 'send 5 to Bob');
    const request = await fake.waitFor(() => fake.messages(token, group).find((message) => message.replyMarkup));
    const approve = request.replyMarkup!.inline_keyboard![0]![0]!.callback_data!;
    const presses = () => fake.callsOf(token, 'answerCallbackQuery');

    // A button of an inline message has no chat: the allow-list by chat said nothing about it.
    await channel.handleUpdate({
      update_id: nextUpdateId++,
      callback_query: {
        id: 'q-inline',
        from: { id: 99, is_bot: false, first_name: 'Eve' },
        chat_instance: 'x',
        inline_message_id: 'inline-1',
        data: approve,
      },
    } as Update);
    await channel.whenHandled();
    // A member of the allowed group who is not an approver.
    await fake.pressButton(token, approve, { chatId: group, userId: 55 });
    await fake.waitFor(() => presses().length === 2);
    expect(agentrix.pendingApprovals()).toHaveLength(1);
    expect(presses().map((call) => call.body.text)).toEqual([
      expect.stringMatching(/private/),
      expect.stringMatching(/private/),
    ]);

    // The approver, late: Telegram no longer takes the toast, the approval still counts.
    fake.failNext('answerCallbackQuery', {
      status: 400,
      description: 'Bad Request: query is too old and response timeout expired or query ID is invalid',
    });
    await fake.pressButton(token, approve, { chatId: group, userId: 7 });
    expect((await asked).content).toBe('Sent 5.');
    expect(transfers()).toBe(1);
    // Pressed again once decided.
    await fake.pressButton(token, approve, { chatId: group, userId: 7 });
    await fake.waitFor(() => presses().length === 4);
    expect(presses().at(-1)?.body.text).toMatch(/already decided/);
    await channel.whenHandled();
    expect(dead).toEqual([]);
    expect(fake.messages(token, group).filter((message) => /Sorry/.test(message.text))).toEqual([]);
  });
});

describe('secrets and stopping', () => {
  it('the token is in no log line at any level, whatever fails', async () => {
    const lines: string[] = [];
    const capture =
      (level: string): Logger[keyof Logger] =>
      (fields, message) =>
        lines.push(`${level} ${message} ${JSON.stringify(fields)}`);
    const logger: Logger = {
      debug: capture('debug'),
      info: capture('info'),
      warn: capture('warn'),
      error: capture('error'),
    };
    const { agentrix, token } = await setup(
      {
        script: [
          { text: 'fine' },
          { error: new AgentrixError('PROVIDER_BAD_REQUEST', 'the model refused the request') },
        ],
      },
      { logger, retry: { baseDelayMs: 5, maxDelayMs: 10 } },
    );
    const dead = collect(agentrix, 'telegram.dead-lettered');
    fake.failNext('sendMessage', 'network');
    fake.failNext('sendMessage', { status: 502 });
    fake.failNext('getUpdates', 'network');
    await fake.sendText(token, 'hi', { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7)[0]?.text === 'fine');
    await fake.sendText(token, 'again', { chatId: 7 });
    await fake.waitFor(() => dead.length === 1 && fake.messages(token, 7).length === 2);
    const refused = new TelegramChannel(agentrix, { token: REFUSED, agent: 'a', apiRoot: fake.apiRoot, logger });
    await expect(refused.start()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(lines.filter((line) => line.startsWith('warn')).length).toBeGreaterThan(2);
    for (const line of lines) expect(line).not.toContain('refusedrefused');
    const secret = token.split(':')[1]!;
    for (const line of lines) expect(line).not.toContain(secret);
    expect(JSON.stringify(dead)).not.toContain(secret);
  });

  it('close() during a long poll returns at once and leaves no socket or timer behind', async () => {
    let held: import('node:http').IncomingMessage | undefined;
    let dropped!: () => void;
    const pollClosed = new Promise<void>((resolve) => {
      dropped = resolve;
    });
    const server = createServer((request, response) => {
      if (!request.url?.endsWith('/getUpdates')) {
        const result = request.url?.endsWith('/getMe')
          ? { id: 5, is_bot: true, first_name: 'B', username: 'b_bot' }
          : true;
        response.end(JSON.stringify({ ok: true, result }));
        return;
      }
      held = request; // getUpdates: held, as Telegram does for `timeout` seconds
      request.on('close', () => dropped());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => new Promise<void>((done) => server.close(() => done())) });
    const { port } = server.address() as AddressInfo;
    const agentrix = await createAgentrix({ model: new MockLLM() });
    open.push(agentrix);
    const timersBefore = activeTimers();
    const channel = new TelegramChannel(agentrix, {
      token: testToken(),
      agent: 'a',
      apiRoot: `http://127.0.0.1:${port}`,
      allow: 'everyone',
    });
    await channel.start();
    const deadline = Date.now() + 2_000;
    while (held === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(held).toBeDefined();
    const startedAt = Date.now();
    await channel.close();
    expect(Date.now() - startedAt).toBeLessThan(200);
    await pollClosed; // the held getUpdates connection was dropped
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
  });
});

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}
