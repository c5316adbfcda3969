import { createAgentrix } from '@agentrix/runtime';
import { createServer } from '@agentrix/server';
import { TelegramChannel } from '@agentrix/telegram';
import { FakeBotApi } from '@agentrix/telegram/testing';
import { MockLLM } from '@agentrix/testing';
import { expect, it } from 'vitest';

// Issue 17: the webhook "mountable in the control-plane server": one Node server answers Telegram
// on /telegram (authenticated by Telegram's secret header, not a bearer token) and the API beside it.
it("serves a Telegram webhook from the control plane's own server, the API beside it still guarded", async () => {
  const fake = await FakeBotApi.start();
  const agentrix = await createAgentrix({ model: new MockLLM({ fallback: { text: 'hello from the server' } }) });
  const server = createServer({ agentrix, tokens: [{ token: 'admin-token-0123456789', scope: 'admin' }] });
  const token = '4242:AAFwebhookInServerTest_0123456789';
  const channel = new TelegramChannel(agentrix, {
    token,
    agent: 'assistant',
    apiRoot: fake.apiRoot,
    allow: { users: [7] },
    limits: { privateChatIntervalMs: 0 },
  });
  try {
    await agentrix.create({ id: 'assistant' });
    await channel.start({ polling: false });
    server.app.post('/telegram', (c) => channel.webhook(c.req.raw));
    const { url } = await server.listen({ port: 0 });
    // The fake Bot API now POSTs each update to the server instead of queueing it for getUpdates.
    fake.server.setWebhook({ url: `${url}/telegram` } as never, token);
    await fake.server.addUserMessage(fake.server.getClient(token, { chatId: 7, userId: 7 }).makeMessage('hi') as never);
    await fake.waitFor(() => fake.messages(token, 7).length === 1);
    expect(fake.messages(token, 7).map((message) => message.text)).toEqual(['hello from the server']);
    expect((await fetch(`${url}/api/agents`)).status).toBe(401);
    const agents = await fetch(`${url}/api/agents`, { headers: { authorization: 'Bearer admin-token-0123456789' } });
    expect(agents.status).toBe(200);
    expect(JSON.stringify(await agents.json())).toContain('assistant');
  } finally {
    await channel.close();
    await server.close();
    await agentrix.close();
    await fake.close();
  }
});
