import { randomUUID } from 'node:crypto';
import { createAgentrixStore } from '@agentrix/store';
import { FakeBotApi } from '@agentrix/telegram/testing';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { type Assistant, startAssistant } from './assistant.js';

it('remembers a user across sessions, uses its skill, spends from the daily budget, refuses strangers', async () => {
  await using fake = await FakeBotApi.start();
  // One open database stands for the disk between the two sessions: Postgres when DATABASE_URL is
  // set (as in CI; each test in its own schema), else PGlite in memory (a directory costs ~8 s more).
  const url = process.env.DATABASE_URL ?? 'memory://';
  const schema = url === 'memory://' ? undefined : `telegram_example_${randomUUID().replaceAll('-', '')}`;
  await using store = await createAgentrixStore({ url, vector: 'off', ...(schema ? { schema } : {}) });
  await using _dropSchema = {
    async [Symbol.asyncDispose]() {
      if (schema) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.database.kysely);
    },
  };
  const token = '123456:example-test-token-not-a-secret';
  const user = { chatId: 7, userId: 7 };
  const ask = async (assistant: Assistant, text: string, from = user) => {
    const replied = new Promise<number[]>((resolve) => {
      const listener = (event: { chatId: number; messageIds: number[] }) => {
        if (event.chatId !== from.chatId) return;
        assistant.agentrix.off('telegram.replied', listener);
        resolve(event.messageIds);
      };
      assistant.agentrix.on('telegram.replied', listener);
    });
    await fake.sendText(token, text, from);
    const ids = await replied;
    await assistant.agentrix.waitForIdle();
    return fake
      .messages(token, from.chatId)
      .filter((message) => ids.includes(message.messageId))
      .map((message) => message.text)
      .join('\n');
  };

  const first = await startAssistant({ token, apiRoot: fake.apiRoot, store, allow: { users: [7] } });
  expect(await ask(first, 'Hi! My name is Ada.')).toBe('Nice to meet you, I will remember that.');
  await first.close();

  const second = await startAssistant({ token, apiRoot: fake.apiRoot, store, allow: { users: [7] } });
  try {
    expect(await ask(second, 'What is my name?')).toBe('Your name is Ada.');
    expect(await ask(second, 'What time is it?')).toMatch(/^It is \d\d:\d\d in UTC\.$/);
    const [budget] = await second.agentrix.gateway!.budgetStatus();
    expect(budget).toMatchObject({ budget: 'daily', limit: 1 });
    expect(budget!.spent).toBeGreaterThan(0);
    const spent = budget!.spent;
    expect(await ask(second, 'let me in', { chatId: 99, userId: 99 })).toMatch(/private/);
    const [after] = await second.agentrix.gateway!.budgetStatus();
    expect(after!.spent).toBe(spent); // the stranger cost nothing
  } finally {
    await second.close();
  }
}, 30_000);
