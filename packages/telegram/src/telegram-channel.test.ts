import { InMemoryBus } from '@agentrix/bus';
import { AgentrixError } from '@agentrix/core';
import type { HqReport } from '@agentrix/hq';
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelTests, collect, TRANSFER_SCRIPT, transferSkill } from './channel-test-support.js';
import { TelegramChannel } from './telegram-channel.js';
import { SlowStreamModel, testToken } from './test-support.js';
import { FakeBotApi } from './testing/index.js';

let fake: FakeBotApi;
beforeAll(async () => {
  fake = await FakeBotApi.start({ refusedTokens: ['1111:revokedrevokedrevokedrevoked000'] });
});
afterAll(() => fake.close());
const { open, setup } = channelTests(() => fake, {
  streamEditIntervalMs: 50,
  // Telegram's spacing (1 s per private chat) would make every test wait; the 429 test turns it back on.
  limits: { privateChatIntervalMs: 0 },
});

describe('TelegramChannel on a fake Bot API', () => {
  it('streams an answer by editing one message, after a typing indicator', async () => {
    const words = 'Agentrix runs agents that keep working through crashes and restarts.';
    const { token } = await setup(new SlowStreamModel(new MockLLM({ script: [{ text: words }] }), 40));
    await fake.sendText(token, 'What is Agentrix?', { chatId: 7 });
    const [answer] = await fake.waitFor(() => {
      const messages = fake.messages(token, 7);
      return messages[0]?.text === words && messages;
    });
    expect(fake.messages(token, 7)).toHaveLength(1);
    const typing = fake.callsOf(token, 'sendChatAction', 7);
    expect(typing[0]?.body.action).toBe('typing');
    const sent = fake.callsOf(token, 'sendMessage', 7);
    const edits = fake
      .callsOf(token, 'editMessageText', 7)
      .filter((call) => call.body.message_id === answer?.messageId);
    expect(sent).toHaveLength(1);
    expect(String(sent[0]?.body.text)).toMatch(/ …$/); // a partial answer first
    expect(typing[0]!.at).toBeLessThanOrEqual(sent[0]!.at);
    expect(edits.length).toBeGreaterThanOrEqual(2); // more words, then the final answer
    expect(edits.at(-1)?.body.parse_mode).toBe('HTML');
  });

  it('answers the same update delivered twice once, and counts the duplicate', async () => {
    const { agentrix, channel, token, model } = await setup({ fallback: { text: 'Once.' } });
    const update = {
      update_id: 5001,
      message: {
        message_id: 1,
        date: 0,
        chat: { id: 7, type: 'private' as const, first_name: 'Ada' },
        from: { id: 7, is_bot: false, first_name: 'Ada' },
        text: 'hello',
      },
    };
    const replied = collect(agentrix, 'telegram.replied');
    const response = await channel.webhook(jsonRequest(update));
    expect(response.status).toBe(200);
    expect((await channel.webhook(jsonRequest(update))).status).toBe(200);
    await fake.waitFor(() => replied.length === 1);
    await agentrix.waitForIdle();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fake.messages(token, 7).map((message) => message.text)).toEqual(['Once.']);
    expect(model.calls).toBe(1);
    expect(channel.stats()).toMatchObject({ received: 1, duplicates: 1, answered: 1 });
  });

  it('refuses a chat outside the allow-list without a model call', async () => {
    const { agentrix, channel, token, model } = await setup({ fallback: { text: 'should not be said' } });
    const refused = collect(agentrix, 'telegram.refused');
    await fake.sendText(token, 'spend your budget for me', { chatId: 99, userId: 99 });
    await fake.waitFor(() => fake.messages(token, 99).length === 1);
    expect(fake.messages(token, 99)[0]?.text).toMatch(/private/);
    expect(model.calls).toBe(0);
    expect(refused).toMatchObject([{ chatId: 99, userId: 99 }]);
    expect(channel.stats().refused).toBe(1);
  });

  it('is closed by default: no allow-list, nobody gets through', async () => {
    const { token, model } = await setup({ fallback: { text: 'no' } }, { allow: undefined });
    await fake.sendText(token, 'hi', { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7).length === 1);
    expect(model.calls).toBe(0);
  });

  it('waits out a 429 retry_after before sending again', async () => {
    const { agentrix, token } = await setup({ fallback: { text: 'after the wait' } }, { streamEditIntervalMs: false });
    const retries = collect(agentrix, 'telegram.retry');
    fake.failNext('sendMessage', { status: 429, retryAfter: 1 });
    await fake.sendText(token, 'hi', { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7)[0]?.text === 'after the wait', 5_000);
    const sends = fake.callsOf(token, 'sendMessage', 7);
    expect(sends).toHaveLength(2);
    expect(sends[1]!.at - sends[0]!.at).toBeGreaterThanOrEqual(990);
    expect(retries).toMatchObject([{ method: 'sendMessage', attempt: 1, delayMs: 1000 }]);
  });

  it('retries a dropped connection and a 502 with backoff', async () => {
    const { agentrix, token } = await setup(
      { fallback: { text: 'through the faults' } },
      { streamEditIntervalMs: false, retry: { baseDelayMs: 10, maxDelayMs: 20 } },
    );
    const retries = collect(agentrix, 'telegram.retry');
    fake.failNext('sendMessage', 'network');
    fake.failNext('sendMessage', { status: 502, description: 'Bad Gateway' });
    await fake.sendText(token, 'hi', { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7)[0]?.text === 'through the faults');
    expect(retries.map((retry) => [retry.method, retry.attempt, retry.error.code])).toEqual([
      ['sendMessage', 1, 'CHANNEL_ERROR'],
      ['sendMessage', 2, 'CHANNEL_ERROR'],
    ]);
    expect(JSON.stringify(retries)).not.toContain(token.split(':')[1]);
  });

  it('webhook: updates POSTed by the Bot API to a real HTTP server are answered', async () => {
    const { agentrix, channel, token } = await setup({ fallback: { text: 'via webhook' } }, { polling: false });
    const http = await import('node:http');
    const server = http.createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const answer = await channel.webhook(
        new Request('http://localhost/telegram', {
          method: 'POST',
          headers: request.headers as Record<string, string>,
          body: Buffer.concat(chunks),
        }),
      );
      response.writeHead(answer.status);
      response.end(await answer.text());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const { port } = server.address() as import('node:net').AddressInfo;
    const replied = collect(agentrix, 'telegram.replied');
    // The fake Bot API then POSTs updates to the URL instead of queueing them for getUpdates.
    fake.server.setWebhook({ url: `http://127.0.0.1:${port}/telegram` } as never, token);
    await fake.server.addUserMessage({
      ...fake.server.getClient(token, { chatId: 7, userId: 7 }).makeMessage('hello hook'),
    } as never);
    await fake.waitFor(() => replied.length === 1);
    expect(fake.messages(token, 7).map((message) => message.text)).toEqual(['via webhook']);
  });

  it('webhook: checks the secret token header and refuses what is not an update', async () => {
    const { channel, model } = await setup({ fallback: { text: 'no' } }, { webhookSecret: 's3cret-header' });
    const update = { update_id: 77, message: { message_id: 1, date: 0, chat: { id: 7, type: 'private' }, text: 'x' } };
    expect((await channel.webhook(jsonRequest(update))).status).toBe(403);
    const withSecret = (body: string) =>
      new Request('http://localhost/telegram', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 's3cret-header' },
        body,
      });
    expect((await channel.webhook(withSecret('{not json'))).status).toBe(400);
    expect((await channel.webhook(withSecret('{"no":"update id"}'))).status).toBe(400);
    expect(model.calls).toBe(0);
    expect(channel.stats().received).toBe(0);
  });

  it('handles /start, /status and /reset without a model call', async () => {
    const { agentrix, token, model } = await setup({ fallback: { text: 'Noted.' } });
    await fake.sendText(token, 'remember me', { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7).length === 1);
    await agentrix.waitForIdle();
    expect(model.calls).toBe(1);
    await fake.sendText(token, '/status', { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7).length === 2);
    expect(fake.messages(token, 7)[1]?.text).toMatch(/idle[\s\S]*1 turns, 2 messages/);
    await fake.sendText(token, '/reset', { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7).length === 3);
    expect(fake.messages(token, 7)[2]?.text).toMatch(/forgot/);
    expect(await agentrix.threads('assistant')).toEqual([]);
    await fake.sendText(token, '/start', { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7).length === 4);
    expect(fake.messages(token, 7)[3]?.text).toMatch(/Hello/);
    expect(model.calls).toBe(1);
  });

  it('answers a sticker or a file clearly, ignores and counts other update kinds', async () => {
    const { agentrix, channel, token, model } = await setup({ fallback: { text: 'no' } });
    const ignored = collect(agentrix, 'telegram.update-ignored');
    await fake.sendMessage(token, { sticker: { file_id: 'x', width: 1, height: 1 } }, { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7).length === 1);
    expect(fake.messages(token, 7)[0]?.text).toMatch(/only read text/);
    await channel.handleUpdate({
      update_id: 9001,
      edited_message: {
        message_id: 3,
        date: 0,
        edit_date: 1,
        chat: { id: 7, type: 'private', first_name: 'Ada' },
        text: 'edited',
      },
    } as never);
    await channel.whenHandled();
    expect(ignored).toMatchObject([{ updateId: 9001, kind: 'edited_message' }]);
    expect(channel.stats().ignored).toBe(1);
    expect(model.calls).toBe(0);
  });

  it('refuses a message longer than maxInputChars without a model call', async () => {
    const { token, model } = await setup({ fallback: { text: 'no' } }, { maxInputChars: 100 });
    await fake.sendText(token, 'x'.repeat(101), { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7).length === 1);
    expect(fake.messages(token, 7)[0]?.text).toMatch(/too long.*100 characters/);
    expect(model.calls).toBe(0);
  });

  it('splits a long answer into messages within the limit', async () => {
    const long = Array.from({ length: 300 }, (_, index) => `Line ${index}: ${'word '.repeat(5)}`).join('\n');
    const { token } = await setup({ fallback: { text: long } }, { streamEditIntervalMs: false });
    await fake.sendText(token, 'tell me everything', { chatId: 7 });
    const messages = await fake.waitFor(() => {
      const all = fake.messages(token, 7);
      return all.length >= 3 && all.at(-1)?.text.includes('Line 299') && all;
    });
    for (const message of messages) expect(message.text.length).toBeLessThanOrEqual(4096);
    expect(messages.map((message) => message.text).join('\n')).toBe(long);
  });

  it('escapes what the model writes for HTML', async () => {
    const { token } = await setup({ fallback: { text: 'Use **a < b && c > d** and `x<y>`' } });
    await fake.sendText(token, 'compare', { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7)[0]?.text.includes('<b>'));
    expect(fake.messages(token, 7)[0]?.text).toBe(
      'Use <b>a &lt; b &amp;&amp; c &gt; d</b> and <code>x&lt;y&gt;</code>',
    );
  });

  it('dead-letters a turn that keeps failing and apologises', async () => {
    const { agentrix, channel, token } = await setup(
      { fallback: { error: new AgentrixError('PROVIDER_BAD_REQUEST', 'the model refused the request') } },
      { streamEditIntervalMs: false },
    );
    const dead = collect(agentrix, 'telegram.dead-lettered');
    await fake.sendText(token, 'break please', { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7).length === 1, 10_000);
    expect(fake.messages(token, 7)[0]?.text).toMatch(/^Sorry, something went wrong/);
    expect(dead).toHaveLength(1);
    expect(channel.stats().deadLettered).toBe(1);
  });

  it('dead-letters an answer Telegram keeps refusing, and apologises', async () => {
    const bus = new InMemoryBus({ maxDeliveries: 2 });
    open.push(bus);
    const { agentrix, channel, token } = await setup(
      { fallback: { text: 'never shown' } },
      { bus, streamEditIntervalMs: false },
    );
    const dead = collect(agentrix, 'telegram.dead-lettered');
    fake.failNext('sendMessage', { status: 400, description: 'Bad Request: message is too weird' }, 2);
    await fake.sendText(token, 'hi', { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7).length === 1, 10_000);
    expect(fake.messages(token, 7)[0]?.text).toMatch(/^Sorry/);
    expect(fake.callsOf(token, 'sendMessage', 7)).toHaveLength(3); // two deliveries, then the apology
    expect(dead).toMatchObject([{ chatId: 7, error: { code: 'CHANNEL_ERROR' } }]);
    expect(channel.stats()).toMatchObject({ answered: 0, deadLettered: 1 });
  });

  it('apologises at once when a route names an agent that does not exist', async () => {
    const { agentrix, token } = await setup(
      { fallback: { text: 'no' } },
      { routes: [{ chatId: 7, agentId: 'ghost' }] },
    );
    const dead = collect(agentrix, 'telegram.dead-lettered');
    await fake.sendText(token, 'anyone there?', { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7).length === 1);
    expect(fake.messages(token, 7)[0]?.text).toMatch(/^Sorry/);
    expect(dead[0]?.error.code).toBe('AGENT_NOT_FOUND');
  });

  it('turns a pending approval into buttons, and a press approves it', async () => {
    const { skill: transfer, transfers } = transferSkill();
    const { agentrix, token } = await setup(TRANSFER_SCRIPT, { skills: [transfer], streamEditIntervalMs: false });
    await fake.sendText(token, 'send 5 to Bob', { chatId: 7 });
    const request = await fake.waitFor(() => fake.messages(token, 7).find((message) => message.replyMarkup));
    const [approve, reject] = request.replyMarkup!.inline_keyboard![0]!;
    expect([approve?.text, reject?.text]).toEqual(['✅ Approve', '❌ Reject']);
    expect(request.text).toMatch(/transfer/);
    expect(agentrix.pendingApprovals()).toHaveLength(1);
    await fake.pressButton(token, approve!.callback_data!, { chatId: 7 });
    await fake.waitFor(() => fake.messages(token, 7).some((message) => message.text === 'Sent 5.'));
    expect(transfers()).toBe(1);
    expect(fake.callsOf(token, 'answerCallbackQuery').at(-1)?.body.text).toBe('Approved');
    await fake.waitFor(() => fake.messages(token, 7)[0]?.text.includes('Approved by telegram:7'));
  });

  it('send_telegram sends through the skill executor, once per key, only to allowed chats', async () => {
    const { agentrix, token } = await setup({
      script: [
        { toolCalls: [{ name: 'send_telegram', arguments: { chat_id: 7, text: 'Reminder!', idempotency_key: 'r1' } }] },
        { toolCalls: [{ name: 'send_telegram', arguments: { chat_id: 7, text: 'Reminder!', idempotency_key: 'r1' } }] },
        { toolCalls: [{ name: 'send_telegram', arguments: { chat_id: 99, text: 'Stranger' } }] },
        { text: 'done' },
      ],
    });
    await agentrix.terminate('assistant');
    await agentrix.create({ id: 'reminder', tools: ['send_telegram'] });
    const completed = collect(agentrix, 'tool.completed');
    const reply = await agentrix.ask('reminder', 'remind user 7');
    expect(reply.content).toBe('done');
    expect(fake.messages(token, 7).map((message) => message.text)).toEqual(['Reminder!']);
    expect(fake.messages(token, 99)).toEqual([]);
    expect(completed.map((event) => event.isError)).toEqual([false, false, true]);
    expect(completed[2]?.error?.code).toBe('INVALID_ARGUMENT');
  });

  it("pushes the HQ's daily report to a chat", async () => {
    const { channel, token } = await setup({ fallback: { text: 'no' } });
    const report: HqReport = {
      generatedAt: Date.UTC(2026, 11, 6, 18),
      paused: false,
      goals: [
        {
          id: 'g1',
          text: 'Ship Telegram',
          priority: 1,
          deadline: undefined,
          createdAt: 0,
          status: 'done',
          tasks: { done: 3, failed: 0, inProgress: 0 },
          error: undefined,
        },
      ],
      tasks: { done: 3, failed: 0, inProgress: 0 },
      spend: { day: '2026-12-06', totalUsd: 1.5, byAgent: {} },
      agentBudgets: {},
    };
    await channel.pushReport(7, report);
    expect(fake.messages(token, 7)[0]?.text).toBe(
      '<b>Daily report (2026-12-06)</b>\nTasks: 3 done, 0 failed, 0 in progress.\n- Ship Telegram: done, 3 done, 0 failed\nSpend on 2026-12-06: $1.50',
    );
  });
});

describe('bad input', () => {
  it('a refused token is AUTH_FAILED at start, with the token nowhere in the error', async () => {
    const agentrix = await createAgentrix({ model: new MockLLM() });
    open.push(agentrix);
    const token = '1111:revokedrevokedrevokedrevoked000';
    const channel = new TelegramChannel(agentrix, { token, agent: 'a', apiRoot: fake.apiRoot });
    const error = await channel.start().catch((thrown: unknown) => thrown);
    expect(AgentrixError.isInstance(error) && error.code).toBe('AUTH_FAILED');
    expect(JSON.stringify((error as AgentrixError).toJSON())).not.toContain('revoked');
    expect(String((error as Error).stack)).not.toContain('revoked');
  });

  it('an unreachable Bot API names the failure, not the token', async () => {
    const agentrix = await createAgentrix({ model: new MockLLM() });
    open.push(agentrix);
    const token = testToken();
    const channel = new TelegramChannel(agentrix, {
      token,
      agent: 'a',
      apiRoot: 'http://127.0.0.1:9',
      retry: { attempts: 1 },
    });
    const error = (await channel.start().catch((thrown: unknown) => thrown)) as AgentrixError;
    expect(error.code).toBe('CHANNEL_ERROR');
    expect(error.message).toMatch(/getMe failed/);
    const secret = token.split(':')[1]!;
    expect(JSON.stringify(error.toJSON())).not.toContain(secret);
    expect(String(error.stack)).not.toContain(secret);
    expect(String((error.cause as Error)?.stack)).not.toContain(secret);
  });

  it('a malformed token is INVALID_ARGUMENT and not echoed', async () => {
    const agentrix = await createAgentrix({ model: new MockLLM() });
    open.push(agentrix);
    const construct = () => new TelegramChannel(agentrix, { token: 'not-a-token-secretvalue', agent: 'a' });
    expect(construct).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(construct).not.toThrow(/secretvalue/);
  });
});

function jsonRequest(body: unknown): Request {
  return new Request('http://localhost/telegram', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
