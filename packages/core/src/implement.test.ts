import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  DEFAULT_DEAD_LETTER_LIMIT,
  invalidArgument,
  MESSAGE_OVERHEAD_TOKENS,
  positiveLimit,
  toNumber,
  truncateText,
  truncationMarker,
} from './implement.js';
import { AgentrixError, serializeError } from './index.js';

describe('invalidArgument', () => {
  it('is a user INVALID_ARGUMENT error with the message, and a cause or details when given', () => {
    const plain = invalidArgument('limit must be a positive integer, got -1');
    expect(plain).toMatchObject({ code: 'INVALID_ARGUMENT', kind: 'user', isRetryable: false });
    expect(plain.message).toBe('limit must be a positive integer, got -1');
    expect([plain.cause, plain.details]).toEqual([undefined, undefined]);

    const parsed = z.number().safeParse('x');
    const withCause = invalidArgument('bad number', { cause: parsed.error });
    // Kept as a redacted copy (see AgentrixError), with the zod message.
    expect((withCause.cause as Error).message).toBe(parsed.error?.message);

    const withDetails = invalidArgument('A goal with id "g1" exists already', { details: { jobId: 'g1' } });
    expect(withDetails.details).toEqual({ jobId: 'g1' });
    expect(serializeError(withDetails)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { jobId: 'g1' } });
  });

  it('is born redacted like every AgentrixError', () => {
    const error = invalidArgument('cannot parse postgres://agent:s3cret@db:5432/app', {
      cause: new Error('bad url postgres://agent:s3cret@db:5432/app'),
    });
    expect(JSON.stringify(serializeError(error))).not.toContain('s3cret');
  });
});

describe('truncateText', () => {
  it('returns text within the limit unchanged', () => {
    expect(truncateText('short', 100)).toBe('short');
    expect(truncateText('x'.repeat(100), 100)).toBe('x'.repeat(100));
  });

  it('cuts to at most maxChars, marker included, and the marker counts what was dropped', () => {
    for (const [length, max] of [
      [101, 100],
      [1_000, 100],
      [123_456, 50_000],
    ] as const) {
      const cut = truncateText('a'.repeat(length), max);
      expect(cut.length, `${length} -> ${max}`).toBeLessThanOrEqual(max);
      const match = /\n…\[truncated (\d+) characters\]$/.exec(cut);
      expect(match, cut).not.toBeNull();
      const kept = cut.length - (match?.[0].length ?? 0);
      expect(kept + Number(match?.[1])).toBe(length);
      expect(cut.endsWith(truncationMarker(length - kept))).toBe(true);
    }
  });

  it('never splits a surrogate pair', () => {
    const text = '😀'.repeat(100);
    for (let max = 30; max < 60; max++) {
      const cut = truncateText(text, max);
      const kept = cut.slice(0, cut.indexOf('\n…['));
      expect(kept, `max ${max}`).toBe('😀'.repeat(kept.length / 2));
    }
  });

  it('keeps nothing of the text when the limit is smaller than the marker', () => {
    expect(truncateText('abcdefghij'.repeat(10), 5)).toBe(truncationMarker(100));
  });
});

describe('small shared values', () => {
  it('reads numbers from bigint columns, strings (pg) or numbers (PGlite)', () => {
    expect([toNumber('42'), toNumber(42), toNumber('9007199254740991')]).toEqual([42, 42, 9007199254740991]);
    expect(toNumber('not a number')).toBeNaN();
  });

  it('gives every bus the same default dead-letter page, checked like any limit', () => {
    expect(DEFAULT_DEAD_LETTER_LIMIT).toBe(100);
    expect(positiveLimit(undefined, DEFAULT_DEAD_LETTER_LIMIT, 'deadLetters')).toBe(100);
    expect(() => positiveLimit(0, DEFAULT_DEAD_LETTER_LIMIT, 'deadLetters')).toThrow(AgentrixError);
  });

  it('counts the per-message overhead OpenAI documents (role and separators)', () => {
    expect(MESSAGE_OVERHEAD_TOKENS).toBe(4);
  });
});
