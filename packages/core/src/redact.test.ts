import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AgentrixError, redactError, redactingLogger, redactText, redactUrl, serializeError } from './index.js';

describe('redactUrl', () => {
  const hidden = (url: string, secret: string) => {
    const out = redactUrl(url);
    expect(out).not.toContain(secret);
    return out;
  };

  it('hides a password holding any of @ / ? # % and keeps the user and host', () => {
    expect(hidden('postgres://app:Se@cret@host/db', 'cret')).toBe('postgres://app:***@host/db');
    expect(hidden('postgres://app:p/a/ss@host:5432/db', 'p/a/ss')).toBe('postgres://app:***@host:5432/db');
    expect(hidden('postgres://app:pa?ss@host/db', 'pa?ss')).toBe('postgres://app:***@host/db');
    expect(hidden('postgres://app:pa#ss@host/db', 'pa#ss')).toBe('postgres://app:***@host/db');
    expect(hidden('postgres://app:pa%40ss@host/db', 'pa%40ss')).toBe('postgres://app:***@host/db');
    expect(hidden('redis://:s3cr3t@127.0.0.1:6379/0', 's3cr3t')).toBe('redis://:***@127.0.0.1:6379/0');
    expect(hidden('redis://token-only@host', 'token-only')).toBe('redis://***@host');
    expect(redactUrl('postgres://host/db')).toBe('postgres://host/db');
    // Paths in stack traces are not credentials.
    const frame = 'at file:///work/node_modules/.pnpm/kysely@0.28.18/node_modules/kysely/dist/index.js:1:2';
    expect(redactText(frame)).toBe(frame);
  });

  it('hides password= query parameters and libpq key=value passwords', () => {
    expect(hidden('postgres://host/db?user=app&password=hunter22&sslmode=require', 'hunter22')).toBe(
      'postgres://host/db?user=app&password=***&sslmode=require',
    );
    expect(hidden('host=db user=app password=hunter22 dbname=x', 'hunter22')).toBe(
      'host=db user=app password=*** dbname=x',
    );
  });
});

describe('redactText', () => {
  it('hides keys, bearer tokens, authorization headers and JSON secret fields', () => {
    const text =
      'Incorrect API key provided: sk-proj-abcdefghijklmnop. Authorization: Bearer abc.def.ghi {"api_key":"k-123456"} api-key: zz-998877';
    const out = redactText(text);
    for (const secret of ['sk-proj-abcdefghijklmnop', 'abc.def.ghi', 'k-123456', 'zz-998877']) {
      expect(out).not.toContain(secret);
    }
  });

  it('hides registered secrets in raw and URL-encoded form', () => {
    const out = redactText('key planted-key/1 and planted-key%2F1', ['planted-key/1']);
    expect(out).toBe('key *** and ***');
  });
});

describe('errors are born redacted', () => {
  it('redacts the message and the whole cause chain, dropping what the cause carried', () => {
    const urlError = Object.assign(new TypeError('Invalid URL'), {
      code: 'ERR_INVALID_URL',
      input: 'redis://:topsecret@host:6379',
    });
    const wrapped = new Error('connect failed for postgres://app:pw-9999@db/x', { cause: urlError });
    const error = new AgentrixError('BUS_UNAVAILABLE', 'cannot reach redis://:topsecret@host:6379', {
      cause: wrapped,
    });
    const printed = inspect(error, { depth: 10 }) + JSON.stringify(error) + String(error.stack);
    expect(printed).not.toContain('topsecret');
    expect(printed).not.toContain('pw-9999');
    expect((error.cause as Error).message).toBe('connect failed for postgres://app:***@db/x');
    expect(((error.cause as Error).cause as { code?: string }).code).toBe('ERR_INVALID_URL');
  });

  it('serializeError removes registered secrets from messages and details', () => {
    const error = new AgentrixError('TOOL_FAILED', 'tool said: token-abcdef', {
      details: { body: { note: 'token-abcdef' } },
    });
    expect(JSON.stringify(serializeError(error, { secrets: ['token-abcdef'] }))).not.toContain('token-abcdef');
  });

  it('redactError keeps plain diagnostic fields only', () => {
    const copy = redactError(Object.assign(new Error('boom'), { status: 401, headers: { authorization: 'x' } }));
    expect(copy).toMatchObject({ message: 'boom', status: 401 });
    expect((copy as unknown as { headers?: unknown }).headers).toBeUndefined();
  });
});

describe('redactingLogger', () => {
  it('redacts fields and message before the host logger sees them', () => {
    const lines: unknown[] = [];
    const keep = (fields: Record<string, unknown>, message: string) => lines.push({ fields, message });
    const logger = redactingLogger({ debug: keep, info: keep, warn: keep, error: keep }, ['s3cret-value']);
    logger.warn({ url: 'redis://:pw-1@h', nested: { note: 's3cret-value' } }, 'saw s3cret-value');
    expect(JSON.stringify(lines)).not.toMatch(/pw-1|s3cret-value/);
  });
});
