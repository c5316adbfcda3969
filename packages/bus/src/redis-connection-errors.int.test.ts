import { inspect } from 'node:util';
import { AgentrixError } from '@agentrix/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBus } from './index.js';
import { OwnRedisServer } from './redis-test-support.js';

/** The error `createRedisBus` fails with, and how long it took. */
async function failure(url: string): Promise<{ error: AgentrixError; ms: number }> {
  const started = Date.now();
  const outcome = await createRedisBus({ url, connectTimeoutMs: 2_000 }).then(
    async (bus) => {
      await bus.close();
      return new Error(`createRedisBus(${url}) connected`);
    },
    (caught: unknown) => caught,
  );
  if (!AgentrixError.isInstance(outcome)) throw outcome;
  return { error: outcome, ms: Date.now() - started };
}

/** Everything a host could print or store about an error, for grepping secrets. */
function everything(error: AgentrixError): string {
  return [error.message, JSON.stringify(error), inspect(error, { depth: 10 }), String(error.stack)].join('\n');
}

describe('createRedisBus against a redis-server that wants a password (issue 12, item 9)', () => {
  let server: OwnRedisServer;
  beforeAll(async () => {
    server = await OwnRedisServer.start({
      persistence: false,
      args: ['--requirepass', 'right-Pass-1', '--user', 'alice', 'on', '>alice-Pass-2', '~*', '+@all'],
    });
  });
  afterAll(() => server?.stop());

  const at = (userInfo: string, path = '') => `redis://${userInfo}127.0.0.1:${server.port}${path}`;

  it('fails at once with AUTH_FAILED (not retryable) for a wrong password, naming the user, hiding the password', async () => {
    const { error, ms } = await failure(at(':Wrong-Pass-9@'));
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.isRetryable).toBe(false);
    expect(error.message).toMatch(/refused the credentials of user "default"/);
    expect(error.message).toContain(`redis://:***@127.0.0.1:${server.port}`);
    expect(everything(error)).not.toContain('Wrong-Pass-9');
    expect(ms).toBeLessThan(2_000); // not the connect timeout: ioredis's reconnect loop is stopped
  });

  it('names an ACL user whose password is refused', async () => {
    const { error } = await failure(at('alice:Wrong-Pass-8@'));
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toMatch(/user "alice"/);
    expect(error.details).toMatchObject({ user: 'alice' });
    expect(everything(error)).not.toContain('Wrong-Pass-8');
  });

  it('says a password is needed when the URL has none (NOAUTH)', async () => {
    const { error } = await failure(at(''));
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toMatch(/requires a password and the URL gives none/);
  });

  it('fails with DATABASE_NOT_FOUND (not retryable) for a database index the server does not have', async () => {
    const { error } = await failure(at(':right-Pass-1@', '/99'));
    expect(error.code).toBe('DATABASE_NOT_FOUND');
    expect(error.isRetryable).toBe(false);
    expect(error.message).toMatch(/has no database 99/);
    expect(everything(error)).not.toContain('right-Pass-1');
  });

  it('connects with the right credentials (default user and ACL user, another database)', async () => {
    for (const url of [at(':right-Pass-1@'), at('alice:alice-Pass-2@', '/3')]) {
      const bus = await createRedisBus({ url, namespace: 'auth' });
      await bus.send({ from: 'host', to: 'agent', content: 'in' });
      expect(await bus.read('agent', { blockMs: 0 })).toHaveLength(1);
      await bus.deleteInbox('agent');
      await bus.close();
    }
  });
});

describe('createRedisBus with a Redis URL whose password is not percent-encoded (issue 12, item 10)', () => {
  // Each password holds one of @ / ? # % (and a marker to grep for); nothing listens on port 1.
  const passwords = ['Mark3r@pass', 'Mark3r/pass', 'Mark3r?pass', 'Mark3r#pass', 'Mark3r%pass', 'Mark3r%zz'];

  for (const password of passwords) {
    it(`keeps "${password}" out of the error, its causes and util.inspect`, async () => {
      const { error } = await failure(`redis://app:${password}@127.0.0.1:1/0`);
      expect(['INVALID_ARGUMENT', 'BUS_UNAVAILABLE']).toContain(error.code);
      expect(error.message).toContain('redis://app:***@');
      const text = everything(error);
      expect(text).not.toContain(password);
      expect(text).not.toContain(encodeURIComponent(password));
      expect(text).not.toContain('pass@127');
      for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) {
        expect(Object.values(cause).map(String).join(' ')).not.toContain('Mark3r');
      }
    });
  }

  it('says how to write such a password when the URL does not parse', async () => {
    const { error } = await failure('redis://app:Mark3r/pass@127.0.0.1:1/0');
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/percent-encoded \(encodeURIComponent\)/);
  });
});
