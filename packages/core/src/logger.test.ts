import { afterEach, describe, expect, it, vi } from 'vitest';
import { createConsoleLogger, type Logger, REDACTED, redactingLogger, redactValue, silentLogger } from './index.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** A logger that keeps what it is given. */
function recordingLogger(): Logger & { lines: Array<[string, Record<string, unknown>, string]> } {
  const lines: Array<[string, Record<string, unknown>, string]> = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => {
    lines.push([level, fields, message]);
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('createConsoleLogger', () => {
  it('writes JSON lines at or above its level, warnings and errors to stderr', () => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const logger = createConsoleLogger('info');
    logger.debug({ agentId: 'a1' }, 'hidden');
    logger.info({ agentId: 'a1' }, 'turn done');
    logger.warn({ code: 'RATE_LIMITED' }, 'retrying');
    logger.error({ code: 'INTERNAL' }, 'failed');
    expect(out).toHaveBeenCalledTimes(1);
    expect(JSON.parse(out.mock.calls[0]?.[0] as string)).toMatchObject({
      level: 'info',
      msg: 'turn done',
      agentId: 'a1',
    });
    expect(err.mock.calls.map((call) => JSON.parse(call[0] as string).level)).toEqual(['warn', 'error']);
    const { time } = JSON.parse(out.mock.calls[0]?.[0] as string);
    expect(Number.isNaN(Date.parse(time))).toBe(false);
  });

  it('writes debug lines only at level debug, and only errors at level error', () => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    createConsoleLogger('debug').debug({}, 'shown');
    const quiet = createConsoleLogger('error');
    quiet.info({}, 'hidden');
    quiet.warn({}, 'hidden');
    quiet.error({}, 'shown');
    expect(out).toHaveBeenCalledTimes(1);
    expect(err).toHaveBeenCalledTimes(1);
  });

  it('silentLogger writes nothing', () => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    for (const level of ['debug', 'info', 'warn', 'error'] as const) silentLogger[level]({ a: 1 }, 'x');
    expect([out.mock.calls.length, err.mock.calls.length]).toEqual([0, 0]);
  });
});

describe('redactingLogger', () => {
  it('redacts the message and every string in the fields, at every level, before the host logger sees them', () => {
    const inner = recordingLogger();
    const logger = redactingLogger(inner, ['tok-123']);
    logger.warn(
      { url: 'redis://user:hunter2@cache:6379', nested: { list: ['Bearer tok-123'] }, attempt: 2 },
      'connecting to postgres://agent:s3cret@db/app with tok-123',
    );
    logger.debug({}, 'tok-123');
    const text = JSON.stringify(inner.lines);
    for (const secret of ['hunter2', 's3cret', 'tok-123']) expect(text).not.toContain(secret);
    expect(inner.lines.map(([level]) => level)).toEqual(['warn', 'debug']);
    expect(inner.lines[0]?.[1]).toMatchObject({ attempt: 2 });
    expect(inner.lines[1]?.[2]).toBe(REDACTED);
  });
});

describe('redactValue', () => {
  it('copies plain objects and arrays, leaves class instances and deep values alone', () => {
    const date = new Date(0);
    const input = { a: ['key tok-1'], b: { c: 'tok-1' }, date, n: 1 };
    const out = redactValue(input, ['tok-1']);
    expect(out).toEqual({ a: [`key ${REDACTED}`], b: { c: REDACTED }, date, n: 1 });
    expect(out.date).toBe(date);
    expect(input.b.c).toBe('tok-1');
    let deep: Record<string, unknown> = { secret: 'tok-1' };
    for (let index = 0; index < 12; index++) deep = { deep };
    // Depth-limited (8 levels): a cyclic or absurdly deep value cannot hang a log call.
    expect(JSON.stringify(redactValue(deep, ['tok-1']))).toContain('tok-1');
  });
});
