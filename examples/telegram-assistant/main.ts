import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OpenAIProvider } from '@agentrix/gateway';
import { FakeBotApi } from '@agentrix/telegram/testing';
import { startAssistant } from './assistant.js';

// The Telegram assistant. With TELEGRAM_BOT_TOKEN (and TELEGRAM_ALLOW_USERS, your numeric user
// id, comma-separated) it runs on Telegram until Ctrl-C; with OPENAI_API_KEY it thinks with
// OpenAI through the gateway. Without a token it runs offline: the mock model, a fake Bot API
// on localhost, and a scripted user, in two sessions to show memory across restarts.
// Run it with `pnpm --filter @agentrix/example-telegram-assistant start`.
const provider = process.env.OPENAI_API_KEY ? new OpenAIProvider({ apiKey: process.env.OPENAI_API_KEY }) : undefined;
const store = process.env.AGENTRIX_STORE ?? (await mkdtemp(path.join(tmpdir(), 'agentrix-telegram-assistant-')));

if (process.env.TELEGRAM_BOT_TOKEN) {
  const users = (process.env.TELEGRAM_ALLOW_USERS ?? '').split(',').filter(Boolean).map(Number);
  if (users.length === 0) console.log('No TELEGRAM_ALLOW_USERS: the bot refuses everyone (closed by default).');
  const assistant = await startAssistant({
    token: process.env.TELEGRAM_BOT_TOKEN,
    store,
    allow: { users },
    ...(provider ? { provider } : {}),
  });
  console.log(`Polling as bot ${assistant.channel.botId}; data in ${store}. Ctrl-C to stop.`);
  process.once('SIGINT', () => void assistant.close());
} else {
  await using fake = await FakeBotApi.start();
  const token = '123456:offline-demo-token-not-a-secret';
  const user = { chatId: 7, userId: 7 };
  let assistant = await startAssistant({ token, apiRoot: fake.apiRoot, store, allow: { users: [7] } });
  /** Sends a user message and prints the bot's answer once it is complete. */
  const say = async (text: string, from = user) => {
    const replied = new Promise<number[]>((resolve) => {
      const listener = (event: { chatId: number; messageIds: number[] }) => {
        if (event.chatId !== from.chatId) return;
        assistant.agentrix.off('telegram.replied', listener);
        resolve(event.messageIds);
      };
      assistant.agentrix.on('telegram.replied', listener);
    });
    console.log(`  ${from === user ? 'user' : 'stranger'}: ${text}`);
    await fake.sendText(token, text, from);
    const ids = await replied;
    const answer = fake.messages(token, from.chatId).filter((message) => ids.includes(message.messageId));
    console.log(`  bot:  ${answer.map((message) => message.text).join('\n')}`);
  };
  console.log('Offline: mock model, fake Bot API (set TELEGRAM_BOT_TOKEN for Telegram).');
  console.log('Session 1');
  await say('Hi! My name is Ada.');
  await assistant.agentrix.waitForIdle();
  await assistant.close();
  console.log('Session 2 (a new process on the same store)');
  assistant = await startAssistant({ token, apiRoot: fake.apiRoot, store, allow: { users: [7] } });
  await say('What is my name?');
  await say('What time is it?');
  await say('/status');
  await say('let me in', { chatId: 99, userId: 99 });
  const [budget] = await assistant.agentrix.gateway!.budgetStatus();
  console.log(`Daily budget: $${budget!.spent.toFixed(6)} of $${budget!.limit} spent`);
  console.log('Channel:', assistant.channel.stats());
  await assistant.close();
}
