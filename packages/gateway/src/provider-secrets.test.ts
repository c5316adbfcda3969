// No secret of the provider leaves it: a refused API key (which need not look like `sk-...`) and
// the password of a baseURL with `user:password@` reach no error message, cause chain, event,
// ledger record or log line.
import { inspect } from 'node:util';
import { type AgentrixError, type Logger, serializeError } from '@agentrix/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from './gateway.js';
import type { GatewayEventName } from './gateway-events.js';
import { OpenAIProvider } from './openai-provider.js';
import { type FixtureServer, incorrectApiKey, startFixtureServer } from './test-support/openai-fixture-server.js';
import { failure, user } from './test-support/requests.js';

/** A key shaped like no known pattern: only the provider knows it is one. */
const PLANTED_KEY = 'PlantedKey_7f3a9c2e5b1d';
const URL_PASSWORD = 'Url-Pa55word-4e8d';

const MODELS = {
  'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 1_000 },
};
const EVENT_NAMES: GatewayEventName[] = [
  'budget.reserved',
  'budget.settled',
  'budget.released',
  'budget.reclaimed',
  'gateway.degraded',
  'cache.hit',
  'rate.limited',
  'prompt.trimmed',
  'gateway.retry',
  'ledger.recorded',
];

/** Every way an error is commonly printed or stored. */
function renderings(error: AgentrixError): string[] {
  const out = [
    error.message,
    String(error.stack),
    inspect(error, { depth: 10 }),
    JSON.stringify(error),
    JSON.stringify(serializeError(error)),
  ];
  for (let cause = error.cause as Error | undefined; cause; cause = cause.cause as Error | undefined) {
    out.push(cause.message, String(cause.stack), inspect(cause, { depth: 10 }), JSON.stringify(cause));
  }
  return out;
}

/** A gateway that keeps everything it says: events, log lines and (through `ledger`) records. */
function watchedGateway(provider: OpenAIProvider): { gateway: Gateway; seen: string[] } {
  const seen: string[] = [];
  const log = (level: string) => (fields: Record<string, unknown>, message: string) =>
    seen.push(`${level} ${message} ${JSON.stringify(fields)}`);
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const gateway = createGateway({
    provider,
    models: MODELS,
    tiers: { small: 'test-small' },
    budgets: [{ scope: 'global', period: 'day', usd: 1 }],
    retry: { attempts: 2, baseDelayMs: 0, maxDelayMs: 0 },
    logger,
  });
  for (const name of EVENT_NAMES) {
    gateway.events.on(name, (event: unknown) => seen.push(`${name} ${JSON.stringify(event)}`));
  }
  return { gateway, seen };
}

describe('secrets at the provider boundary', () => {
  let server: FixtureServer;
  /** How many 500s to answer before the 401s. */
  let serverErrors = 0;
  beforeAll(async () => {
    server = await startFixtureServer((_body, request) => {
      // A 500 whose body echoes the key (a proxy's debug page, say): retried, so it reaches events and logs.
      if (serverErrors > 0) {
        serverErrors--;
        return {
          status: 500,
          json: { error: { message: `upstream failed for key ${PLANTED_KEY}`, type: 'server_error' } },
        };
      }
      return incorrectApiKey(request);
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('a 401 that echoes the API key keeps it out of the error, its cause chain and its serialized forms', async () => {
    const provider = new OpenAIProvider({ apiKey: PLANTED_KEY, baseURL: server.baseURL });
    for (const attempt of [provider.generate(user('hi')), drain(provider.stream(user('hi')))]) {
      const error = await failure(attempt);
      expect(error.code).toBe('AUTH_FAILED');
      expect(error.isRetryable).toBe(false);
      expect(error.message).toContain('Incorrect API key provided: ***');
      expect(error.cause).toBeInstanceOf(Error);
      for (const text of renderings(error)) expect(text).not.toContain(PLANTED_KEY);
      expect(JSON.stringify(error.details)).not.toContain(PLANTED_KEY);
    }
  });

  it('through the gateway: no event, log line or ledger record carries the key, retried or not', async () => {
    const { gateway, seen } = watchedGateway(new OpenAIProvider({ apiKey: PLANTED_KEY, baseURL: server.baseURL }));
    const refused = await failure(gateway.generate(user('hi')));
    expect(refused.code).toBe('AUTH_FAILED');
    serverErrors = 1;
    const retried = await failure(gateway.generate(user('hi again')));
    expect(retried.code).toBe('AUTH_FAILED');
    expect(seen.some((line) => line.startsWith('gateway.retry'))).toBe(true);
    expect(seen.some((line) => line.startsWith('warn gateway: retrying'))).toBe(true);
    const ledger = JSON.stringify(await gateway.ledger.query());
    expect(ledger).toContain('AUTH_FAILED');
    for (const text of [...seen, ledger, ...renderings(refused), ...renderings(retried)]) {
      expect(text).not.toContain(PLANTED_KEY);
    }
    await gateway.close();
  });

  it('a baseURL with user:password@ fails at once, and its password reaches no message, event, log or record', async () => {
    const baseURL = server.baseURL.replace('http://', `http://agent:${URL_PASSWORD}@`);
    const provider = new OpenAIProvider({ apiKey: PLANTED_KEY, baseURL });
    const { gateway, seen } = watchedGateway(provider);
    const before = server.requests.length;
    const error = await failure(gateway.generate(user('hi')));
    expect(error.code).toBe('MODEL_ERROR');
    // fetch refuses such a URL before sending: not retryable, and the message says what to do.
    expect(error.isRetryable).toBe(false);
    expect(error.message).toContain('not in the baseURL');
    expect(error.message).toContain('agent:***@');
    expect(server.requests.length).toBe(before);
    const ledger = JSON.stringify(await gateway.ledger.query());
    for (const text of [...seen, ledger, ...renderings(error)]) {
      expect(text).not.toContain(URL_PASSWORD);
      expect(text).not.toContain(PLANTED_KEY);
    }
    await gateway.close();
  });
});

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _part of stream) {
    // nothing to keep
  }
}
