import { randomUUID } from 'node:crypto';
import { OpenAIProvider } from '@agentrix/gateway';
import { type Agentrix, createAgentrix } from '@agentrix/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentrixServer, createServer } from './create-server.js';
import { call } from './test-support.js';

// A real Postgres store and a real OpenAI client whose key and base URL password (the password
// of the database's password role, when the services script made one) reach its errors: no
// response of the API may carry either.
const DATABASE_URL = process.env.DATABASE_URL;
const API_KEY = `sk-test-${randomUUID().replaceAll('-', '')}`;
const schema = `server_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

let agentrix: Agentrix;
let server: AgentrixServer;
let dbPassword: string;

describe.skipIf(!DATABASE_URL)('no secret in any response', () => {
  beforeAll(async () => {
    const passwordUrl = process.env.DATABASE_PASSWORD_URL;
    dbPassword = passwordUrl ? decodeURIComponent(new URL(passwordUrl).password) : `pw-${randomUUID()}@/?#%:`;
    const provider = new OpenAIProvider({
      apiKey: API_KEY,
      // Nothing listens on port 9: every call fails with a connection error naming the URL.
      baseURL: `http://proxy:${encodeURIComponent(dbPassword)}@127.0.0.1:9/v1`,
      maxRetries: 0,
    } as never);
    agentrix = await createAgentrix({
      store: { url: DATABASE_URL!, schema },
      gateway: { provider, retry: { attempts: 1 }, budgets: [{ scope: 'global', period: 'day', usd: 5 }] },
    });
    await agentrix.create({ id: 'leaky', modelRetry: { attempts: 1 } });
    server = createServer({ agentrix });
  });
  afterAll(async () => {
    await server?.close();
    await agentrix?.store?.database.kysely.schema.dropSchema(schema).ifExists().cascade().execute();
    await agentrix?.close();
  });

  it('errors, agents, events, ledger and health answer without the key or the password', async () => {
    const asked = await call(server, 'POST', '/api/agents/leaky/ask', { body: { content: 'hi', timeoutMs: 20_000 } });
    expect(asked.status).toBeGreaterThanOrEqual(400);
    expect(asked.json.error.code).toBeTypeOf('string');
    const answers = [asked];
    for (const path of [
      '/api/agents',
      '/api/agents/leaky',
      '/api/events/recent?limit=4096',
      '/api/gateway/ledger',
      '/api/gateway/report',
      '/api/gateway/budgets',
      '/api/bus/inboxes',
      '/api/bus/inboxes/leaky/dead-letters',
      '/api/skills',
      '/readyz',
      '/openapi.json',
    ]) {
      const answer = await call(server, 'GET', path);
      expect([path, answer.status]).toEqual([path, 200]);
      answers.push(answer);
    }
    // The failure did reach the answers (so the check below looks at real error text).
    expect(answers.some((answer) => answer.text.includes('127.0.0.1:9'))).toBe(true);
    for (const answer of answers) {
      expect(answer.text).not.toContain(API_KEY);
      expect(answer.text).not.toContain(dbPassword);
      expect(answer.text).not.toContain(encodeURIComponent(dbPassword));
    }
  });
});
