// Child process of crash.int.test.ts: a bot on a durable store (PGlite directory or Postgres).
// With TG_CRASH=1 it is SIGKILLed by itself the moment the agent's turn starts: after the
// update was recorded and handed to the agent, before anything was answered.
import { createAgentrix } from '@agentrix/runtime';
import { MockLLM } from '@agentrix/testing';
import { TelegramChannel } from '../telegram-channel.js';

const env = process.env as Record<string, string>;
const agentrix = await createAgentrix({
  model: new MockLLM({ fallback: { text: 'Answered once.' } }),
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
});
if (env.TG_CRASH === '1') {
  agentrix.on('turn.started', () => {
    process.stdout.write('CRASH\n');
    process.kill(process.pid, 'SIGKILL');
  });
}
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
