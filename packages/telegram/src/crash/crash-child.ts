// Child process of crash.int.test.ts: a bot on a durable store (PGlite directory or Postgres)
// that streams its answer by edits. The test SIGKILLs it in the middle of the stream: after
// the update was recorded, handed to the agent and partly shown, before it was answered.
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { TelegramChannel } from '../telegram-channel.js';
import { SlowStreamModel } from '../test-support.js';

const env = process.env as Record<string, string>;
const agentrix = await createAgentrix({
  // ~1 s of words: long enough for the test to kill the process between two edits.
  model: new SlowStreamModel(new MockLLM({ fallback: { text: env.TG_ANSWER as string } }), 40),
  store: {
    url: env.TG_STORE_URL as string,
    vector: 'off',
    // A crashed consumer's message goes back to the agent after this long.
    leaseMs: 500,
    ...(env.TG_SCHEMA ? { schema: env.TG_SCHEMA } : {}),
  },
});
await agentrix.restore();
if (!agentrix.has('assistant')) await agentrix.create({ id: 'assistant' });
const channel = new TelegramChannel(agentrix, {
  token: env.TG_TOKEN as string,
  agent: 'assistant',
  apiRoot: env.TG_API_ROOT as string,
  allow: { users: [7] },
  limits: { privateChatIntervalMs: 0 },
  streamEditIntervalMs: 100,
});
agentrix.on('telegram.replied', () => {
  // Stay up a little: a second answer, if there were one, would come now.
  setTimeout(async () => {
    await channel.close();
    await agentrix.close();
    process.stdout.write(`DONE ${JSON.stringify(channel.stats())}\n`);
  }, 500);
});
await channel.start();
process.stdout.write('READY\n');
