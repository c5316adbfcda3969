import { randomBytes, randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { createRedisBus } from '@agentrix/bus';
import { OwnRedisServer } from '@agentrix/bus/testing';
import { type AgentrixEventName, defineTool, type Logger } from '@agentrix/core';
import { createGateway, OpenAIProvider } from '@agentrix/gateway';
import { incorrectApiKey, startFixtureServer } from '@agentrix/gateway/testing';
import { createAgentrix } from '@agentrix/runtime';
import { createAgentrixStore, openDatabase } from '@agentrix/store';
import { MockLLM } from '@agentrix/testing';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

// Issue 12, item 4: distinct secrets planted in the API key, the provider URL, the database URLs,
// the Redis URLs and a tool's error; failures driven through every path; then every table, every
// Redis key, every event, every log line and every error is searched for them: zero hits.

const planted = (name: string) => `planted-${name}-${randomBytes(6).toString('hex')}`;
const secrets = {
  apiKey: planted('apikey'),
  providerUrlPassword: planted('urlpw'),
  databasePassword: planted('dbpw'),
  wrongDatabasePassword: `${planted('dbwrong')}@/?#%`,
  redisPassword: planted('redispw'),
  wrongRedisPassword: planted('rediswrong'),
  toolSecret: planted('tool'),
};

const databaseUrl = process.env.DATABASE_URL;
const passwordUrl = process.env.DATABASE_PASSWORD_URL;

const AGENT_EVENTS: AgentrixEventName[] = [
  'agent.created',
  'agent.state',
  'turn.started',
  'turn.completed',
  'turn.failed',
  'model.retry',
  'model.responded',
  'tool.called',
  'tool.completed',
  'message.sent',
  'message.received',
  'message.dead-lettered',
];
const GATEWAY_EVENTS = [
  'budget.reserved',
  'budget.settled',
  'budget.released',
  'budget.reclaimed',
  'gateway.degraded',
  'gateway.retry',
  'ledger.recorded',
] as const;

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

describe('no secret is stored, logged or sent anywhere', () => {
  it('keeps every planted secret out of tables, Redis, events, logs, errors and model input', async () => {
    if (!databaseUrl) throw new Error('DATABASE_URL is not set: run through `pnpm test` (scripts/with-services.mjs)');
    const seen: string[] = [];
    const keep = (what: unknown) => seen.push(typeof what === 'string' ? what : JSON.stringify(what));
    const keepError = (error: unknown) => {
      seen.push(inspect(error, { depth: 10 }), JSON.stringify(error), String((error as Error)?.stack));
      return error;
    };
    const lines: unknown[] = [];
    const log = (level: string) => (fields: Record<string, unknown>, message: string) =>
      lines.push({ level, message, fields });
    const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };

    // An OpenAI-compatible server that refuses the key and echoes it, as OpenAI does.
    const server = await startFixtureServer((_body, request) => incorrectApiKey(request));
    cleanups.push(() => server.close());
    const redis = await OwnRedisServer.start({ persistence: false, args: ['--requirepass', secrets.redisPassword] });
    cleanups.push(() => redis.stop());

    // The store's URL carries a password (the server trusts the connection and ignores it).
    const schema = `secrets_${randomUUID().replaceAll('-', '')}`;
    const storeUrl = databaseUrl.replace('postgres://postgres@', `postgres://postgres:${secrets.databasePassword}@`);
    expect(storeUrl).toContain(secrets.databasePassword);
    const store = await createAgentrixStore({ url: storeUrl, schema, logger, maxDeliveries: 2 });
    cleanups.push(async () => {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.database.kysely);
      await store.close();
    });
    keep(store.database.url);

    const gateway = createGateway({
      provider: new OpenAIProvider({ apiKey: secrets.apiKey, baseURL: server.baseURL }),
      budgets: [{ scope: 'global', period: 'day', usd: 5 }],
      budgetStore: store.budgets,
      ledger: store.ledger,
      logger,
    });
    const credentialsInUrl = new URL(server.baseURL);
    credentialsInUrl.username = 'user';
    credentialsInUrl.password = secrets.providerUrlPassword;
    const urlGateway = createGateway({
      provider: new OpenAIProvider({ apiKey: 'local', baseURL: credentialsInUrl.toString() }),
      logger,
    });
    cleanups.push(
      () => gateway.close(),
      () => urlGateway.close(),
    );
    for (const name of GATEWAY_EVENTS) {
      gateway.events.on(name, keep);
      urlGateway.events.on(name, keep);
    }

    const leaky = defineTool({
      name: 'leaky',
      description: 'Fails, naming secrets in its error',
      input: z.object({}),
      execute: () => {
        throw new Error(`backend refused token ${secrets.toolSecret} at redis://:${secrets.redisPassword}@host:6379`);
      },
    });
    const toolModel = new MockLLM({
      script: [{ toolCalls: [{ name: 'leaky', arguments: {} }] }],
      fallback: { text: 'done' },
    });
    const agentrix = await createAgentrix({
      bus: store.bus,
      contextStore: store.contexts,
      registry: store.registry,
      models: { default: gateway, url: urlGateway, tooly: toolModel },
      tools: [leaky],
      secrets: [secrets.toolSecret],
      logger,
    });
    cleanups.push(() => agentrix.close());
    for (const name of AGENT_EVENTS) agentrix.events.on(name, keep);

    // 1. The provider refuses the key (401 echoing it): AUTH_FAILED, the agent stops in `error`.
    await agentrix.create({ id: 'keyed', modelRetry: { attempts: 1 } });
    keepError(await agentrix.ask('keyed', 'hi', { timeoutMs: 10_000 }).catch((error: unknown) => error));
    await agentrix.waitForIdle({ timeoutMs: 10_000 });
    expect(agentrix.get('keyed')).toMatchObject({ state: 'error', lastError: { code: 'AUTH_FAILED' } });
    expect(keepError(await agentrix.ask('keyed', 'again').catch((error: unknown) => error))).toMatchObject({
      code: 'AGENT_FAILED',
    });
    // 2. A provider URL with credentials: the call fails, twice, then the message is dead-lettered.
    await agentrix.create({ id: 'url', model: 'url', modelRetry: { attempts: 1 } });
    keepError(await agentrix.ask('url', 'hi', { timeoutMs: 10_000 }).catch((error: unknown) => error));
    // 3. A tool whose error names a host secret and a Redis password.
    await agentrix.create({ id: 'tooly', model: 'tooly', tools: ['leaky'] });
    keep(await agentrix.ask('tooly', 'use the tool', { timeoutMs: 10_000 }));
    await agentrix.waitForIdle({ timeoutMs: 10_000 });
    keep(toolModel.requests);
    const toolMessage = toolModel.requests.at(-1)?.messages.find((message) => message.role === 'tool');
    expect(toolMessage?.content).toMatch(/TOOL_FAILED.*backend refused token \*\*\* at redis:\/\/:\*\*\*@host/);
    keep(agentrix.list());

    // 4. The same refused key on a Redis bus whose URL carries its password.
    const redisUrl = `redis://:${secrets.redisPassword}@127.0.0.1:${redis.port}`;
    const bus = await createRedisBus({ url: redisUrl, logger });
    const onRedis = await createAgentrix({ bus, model: gateway, logger });
    cleanups.push(
      () => bus.close(),
      () => onRedis.close(),
    );
    for (const name of AGENT_EVENTS) onRedis.events.on(name, keep);
    await onRedis.create({ id: 'keyed', modelRetry: { attempts: 1 } });
    keepError(await onRedis.ask('keyed', 'hi', { timeoutMs: 10_000 }).catch((error: unknown) => error));
    keep(onRedis.list());

    // 5. Connections refused or malformed.
    keepError(
      await createRedisBus({ url: `redis://:${secrets.wrongRedisPassword}@127.0.0.1:${redis.port}`, logger }).catch(
        (error: unknown) => error,
      ),
    );
    keepError(
      await createRedisBus({ url: `redis://:${secrets.wrongRedisPassword}/x?y#z@127.0.0.1:${redis.port}` }).catch(
        (error: unknown) => error,
      ),
    );
    if (passwordUrl) {
      const wrong = new URL(passwordUrl);
      wrong.password = encodeURIComponent(secrets.wrongDatabasePassword);
      const refused = keepError(await openDatabase(wrong.toString(), { logger }).catch((error: unknown) => error));
      expect(refused).toMatchObject({ code: 'AUTH_FAILED' });
      const right = await openDatabase(passwordUrl, { logger });
      keep(right.url);
      await right.close();
    }
    await agentrix.close();
    await onRedis.close();
    await gateway.report();

    // Everything stored: every table of the schema, every Redis key.
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = ${schema}`.execute(store.database.kysely);
    expect(tables.rows.length).toBeGreaterThan(5);
    for (const { table_name } of tables.rows) {
      const rows = await sql<{
        row: string;
      }>`select row_to_json(t)::text as row from ${sql.id(schema, table_name)} t`.execute(store.database.kysely);
      for (const { row } of rows.rows) seen.push(row);
    }
    const client = new Redis(redisUrl);
    cleanups.push(() => client.quit());
    for (const key of await client.keys('*')) {
      const type = await client.type(key);
      if (type === 'stream') seen.push(JSON.stringify(await client.xrange(key, '-', '+')));
      else if (type === 'hash') seen.push(JSON.stringify(await client.hgetall(key)));
      else if (type === 'string') seen.push(String(await client.get(key)));
      else if (type === 'zset') seen.push(JSON.stringify(await client.zrange(key, 0, -1)));
      else if (type === 'set') seen.push(JSON.stringify(await client.smembers(key)));
      else if (type === 'list') seen.push(JSON.stringify(await client.lrange(key, 0, -1)));
    }
    seen.push(JSON.stringify(lines));

    // The failures happened, and were recorded where an operator looks...
    const all = seen.join('\n');
    expect(all).toMatch(/AUTH_FAILED/);
    expect(all).toMatch(/leaky/);
    expect(lines.length).toBeGreaterThan(5);
    // ...and no secret went with them.
    for (const [name, value] of Object.entries({
      ...secrets,
      encodedWrongDatabasePassword: encodeURIComponent(secrets.wrongDatabasePassword),
      ...(passwordUrl ? { databasePasswordRole: decodeURIComponent(new URL(passwordUrl).password) } : {}),
    })) {
      const hits = seen.filter((text) => text.includes(value));
      expect({ name, hits: hits.map((text) => text.slice(0, 300)) }).toEqual({ name, hits: [] });
    }
  });
});
