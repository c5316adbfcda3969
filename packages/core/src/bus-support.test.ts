import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  busClosed,
  checkMessageSize,
  checkSendInput,
  completeEnvelope,
  groupNotFound,
  messageBusOptionFields,
  messageIds,
  parseBroadcastInput,
  positiveLimit,
  quote,
  resolveReadOptions,
  utf8Length,
  validateAddress,
} from './implement.js';
import { AgentrixError, createSequentialIds, SendInputSchema, systemClock } from './index.js';

const MIB = 1024 * 1024;
const TRACEPARENT = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;

function thrown(run: () => unknown): AgentrixError {
  try {
    run();
  } catch (error) {
    if (AgentrixError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected an AgentrixError, nothing was thrown');
}

/** What the schema makes of `input`: the parsed value, or that it rejects it. */
function schemaOutcome(input: unknown): unknown {
  const parsed = SendInputSchema.safeParse(input);
  return parsed.success ? { value: parsed.data } : { rejected: 'INVALID_MESSAGE' };
}

/** What `checkSendInput` makes of `input`, and whether it had to ask the schema. */
function sendOutcome(input: unknown): { outcome: unknown; usedSchema: boolean } {
  const spy = vi.spyOn(SendInputSchema, 'safeParse');
  try {
    return { outcome: { value: checkSendInput(input as never, MIB) }, usedSchema: spy.mock.calls.length > 0 };
  } catch (error) {
    if (!AgentrixError.isInstance(error)) throw error;
    return { outcome: { rejected: error.code }, usedSchema: spy.mock.calls.length > 0 };
  } finally {
    spy.mockRestore();
  }
}

/**
 * Every field of `SendInputSchema`, with a valid value. The send fast path (`plainSendInput`)
 * takes the fields in `fast`; the ones in `schema` (rare on a hot path) go through the schema.
 * A field added to the envelope must be added here, in one of the two, or the first test fails.
 */
const FIELDS = {
  fast: {
    from: 'host',
    to: 'agent-1',
    content: 'hello',
    id: 'm-1',
    type: 'reply',
    data: { nested: [1, 'two', null] },
    replyTo: 'host:asker',
    inReplyTo: 'm-0',
    correlationId: 'c-1',
    threadId: 'chat:42@telegram',
    externalId: 'update-7',
    trace: { traceparent: TRACEPARENT, tracestate: 'vendor=1' },
  },
  schema: {
    scope: { userId: 'u-1', tags: ['paid'] },
    via: ['planner'],
    headers: { 'x-tenant': 't-1' },
  },
} as const;

describe('send input: the fast path agrees with SendInputSchema', () => {
  afterEach(() => vi.restoreAllMocks());

  it('knows every field of the schema', () => {
    expect([...Object.keys(FIELDS.fast), ...Object.keys(FIELDS.schema)].sort()).toEqual(
      Object.keys(SendInputSchema.shape).sort(),
    );
  });

  it('takes each fast field without the schema and gives the schema its result', () => {
    const base = { from: 'host', to: 'agent-1', content: 'hello' };
    for (const [key, value] of Object.entries(FIELDS.fast)) {
      const input = { ...base, [key]: value };
      const { outcome, usedSchema } = sendOutcome(input);
      expect(usedSchema, key).toBe(false);
      expect(outcome, key).toEqual(schemaOutcome(input));
    }
    const everything = { ...FIELDS.fast };
    const { outcome, usedSchema } = sendOutcome(everything);
    expect(usedSchema).toBe(false);
    expect(outcome).toEqual(schemaOutcome(everything));
  });

  it('hands the fields it does not take to the schema, which keeps them', () => {
    for (const [key, value] of Object.entries(FIELDS.schema)) {
      const input = { ...FIELDS.fast, [key]: value };
      const { outcome, usedSchema } = sendOutcome(input);
      expect(usedSchema, key).toBe(true);
      expect(outcome, key).toEqual({ value: expect.objectContaining({ [key]: value }) });
      expect(outcome, key).toEqual(schemaOutcome(input));
    }
  });

  it('never accepts what the schema rejects, nor changes what it accepts, at the edges of each field', () => {
    const base = { from: 'host', to: 'agent-1', content: 'hi' };
    const cases: Record<string, unknown>[] = [
      { ...base, from: '' },
      { ...base, to: 'a'.repeat(128) },
      { ...base, to: 'a'.repeat(129) },
      { ...base, to: 'has space' },
      { ...base, content: 7 },
      { ...base, id: '' },
      { ...base, id: 'i'.repeat(200) },
      { ...base, id: 'i'.repeat(201) },
      { ...base, type: '' },
      { ...base, type: 't'.repeat(64) },
      { ...base, type: 't'.repeat(65) },
      { ...base, replyTo: 'bad reply' },
      { ...base, externalId: '' },
      { ...base, externalId: 'e'.repeat(200) },
      { ...base, externalId: 'e'.repeat(201) },
      { ...base, threadId: 'user@chat' },
      { ...base, threadId: 'no spaces' },
      { ...base, threadId: 't'.repeat(201) },
      { ...base, inReplyTo: 5 },
      { ...base, correlationId: null },
      { ...base, data: undefined, id: undefined },
      { ...base, trace: { traceparent: 'not-a-traceparent' } },
      { ...base, trace: { traceparent: TRACEPARENT, extra: 1 } },
      { ...base, trace: { traceparent: TRACEPARENT, tracestate: 's'.repeat(513) } },
      { ...base, group: 'team' },
      { ...base, unknown: true },
      { ...base, scope: { userId: '' } },
      { ...base, via: ['ok', 'not ok'] },
    ];
    for (const input of cases) expect(sendOutcome(input).outcome, JSON.stringify(input)).toEqual(schemaOutcome(input));
  });

  it('agrees with the schema on addresses after more of them than it remembers', () => {
    // The fast path remembers the addresses it checked (a bounded set, emptied when full).
    for (let index = 0; index < 5000; index++) {
      expect(sendOutcome({ from: 'host', to: `agent-${index}`, content: 'x' }).usedSchema).toBe(false);
    }
    for (const to of ['agent-1', 'agent-4999', 'has space', 'a'.repeat(129), 'ünïcode']) {
      for (const input of [
        { from: 'host', to, content: 'x' },
        { from: to, to: 'agent-1', content: 'x' },
        { from: 'host', to: 'agent-1', replyTo: to, content: 'x' },
      ]) {
        expect(sendOutcome(input).outcome, JSON.stringify(input)).toEqual(schemaOutcome(input));
      }
    }
  });

  it('rejects what is not an object at all with INVALID_MESSAGE', () => {
    for (const input of [null, 'text', 42, [{ from: 'a', to: 'b', content: 'c' }]]) {
      expect(sendOutcome(input).outcome).toEqual({ rejected: 'INVALID_MESSAGE' });
    }
  });

  it('names the failing fields in the INVALID_MESSAGE message and keeps the issues', () => {
    const error = thrown(() => checkSendInput({ from: 'host', to: '', content: 1 } as never, MIB));
    expect(error.code).toBe('INVALID_MESSAGE');
    expect(error.message).toMatch(/^Invalid message: .*to: .*content: /);
    expect((error.details?.issues as { path: string[] }[] | undefined)?.map((issue) => issue.path[0])).toEqual(
      expect.arrayContaining(['to', 'content']),
    );
  });

  it('completes a checked send into an envelope: id and type only when missing, createdAt always', () => {
    const ids = createSequentialIds('m');
    const bare = completeEnvelope(checkSendInput({ from: 'host', to: 'a', content: 'x' }, MIB), ids, 123);
    expect(bare).toMatchObject({ id: 'm-1', type: 'message', createdAt: 123 });
    const named = completeEnvelope(
      checkSendInput({ from: 'host', to: 'a', content: 'x', id: 'mine', type: 'tick' }, MIB),
      ids,
      456,
    );
    expect(named).toMatchObject({ id: 'mine', type: 'tick', createdAt: 456 });
  });
});

describe('message size', () => {
  it('counts UTF-8 bytes exactly as Buffer does, surrogate pairs and lone surrogates included', () => {
    const samples = [
      '',
      'ascii',
      'é',
      '€',
      '😀',
      'a😀b',
      '\ud83d',
      '\ude00x',
      'x\ud83d',
      '中文字符',
      '\u007f\u0080\u07ff\u0800',
    ];
    for (const text of samples) expect(utf8Length(text), JSON.stringify(text)).toBe(Buffer.byteLength(text, 'utf8'));
  });

  it('allows exactly the limit and rejects one byte more, counting content and the JSON of data', () => {
    const data = { k: 'v' }; // {"k":"v"}: 9 bytes
    const content = '€'.repeat(10); // 30 bytes
    expect(() => checkMessageSize(content, data, 39, 'a')).not.toThrow();
    const error = thrown(() => checkMessageSize(content, data, 38, 'a'));
    expect(error).toMatchObject({ code: 'MESSAGE_TOO_LARGE', details: { size: 39, limit: 38, to: 'a' } });
    expect(error.message).toMatch(/39 bytes .* limit of 38 bytes/);
    // Short text is accepted on the upper bound alone; long text is counted.
    expect(() => checkMessageSize('x'.repeat(1000), undefined, 1000, 'a')).not.toThrow();
  });

  it('rejects data that cannot be JSON with INVALID_MESSAGE', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const data of [circular, { big: 10n }]) {
      expect(thrown(() => checkMessageSize('x', data, MIB, 'a'))).toMatchObject({
        code: 'INVALID_MESSAGE',
        message: expect.stringMatching(/JSON-serializable/),
      });
    }
  });

  it('checks the size of a send after parsing it', () => {
    expect(thrown(() => checkSendInput({ from: 'h', to: 'a', content: 'x'.repeat(11) }, 10)).code).toBe(
      'MESSAGE_TOO_LARGE',
    );
  });
});

describe('read options', () => {
  it('fills the defaults', () => {
    expect(resolveReadOptions(undefined, 'worker')).toEqual({
      consumer: 'worker',
      max: 16,
      blockMs: undefined,
      signal: undefined,
    });
    const signal = new AbortController().signal;
    expect(resolveReadOptions({ consumer: 'c', max: 1, blockMs: 0, signal }, 'worker')).toEqual({
      consumer: 'c',
      max: 1,
      blockMs: 0,
      signal,
    });
  });

  it('rejects a bad consumer, max or blockMs with INVALID_ARGUMENT naming the value', () => {
    for (const [options, pattern] of [
      [{ consumer: '' }, /consumer .*""/],
      [{ max: 0 }, /max .* got 0/],
      [{ max: 1.5 }, /max .* got 1.5/],
      [{ blockMs: -1 }, /blockMs .* got -1/],
      [{ blockMs: Number.NaN }, /blockMs .* got NaN/],
      [{ blockMs: '5' }, /blockMs .* got "5"/],
    ] as const) {
      expect(thrown(() => resolveReadOptions(options as never, 'w'))).toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(pattern),
      });
    }
  });

  it('rejects with ABORTED when the signal has already fired, keeping its reason', () => {
    const controller = new AbortController();
    controller.abort(new Error('host stopped'));
    const error = thrown(() => resolveReadOptions({ signal: controller.signal }, 'w'));
    expect(error.code).toBe('ABORTED');
    expect(error.message).toBe('The read was aborted: host stopped');
  });
});

describe('bus option fields', () => {
  const Options = z.object(messageBusOptionFields);

  it('fill the documented defaults', () => {
    const options = Options.parse({});
    expect(options).toMatchObject({ consumer: 'default', leaseMs: 30_000, maxDeliveries: 5, maxMessageBytes: MIB });
    expect(options.clock).toBe(systemClock);
    expect(options.generateId()).toMatch(/^[0-9a-f-]{36}$/);
    expect(options.events).toBeUndefined();
  });

  it('reject what is not a clock, an id generator, an address or a positive integer', () => {
    for (const bad of [
      { clock: { now: () => 0 } },
      { generateId: 'id' },
      { consumer: 'two words' },
      { leaseMs: 0 },
      { maxDeliveries: 0 },
      { maxMessageBytes: 1.5 },
      { events: 'events' },
    ]) {
      expect(Options.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('addresses, limits and common errors', () => {
  it('validates an address or names what it was', () => {
    expect(validateAddress('group.team-1:x', 'group')).toBe('group.team-1:x');
    expect(thrown(() => validateAddress('no spaces', 'group'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^Invalid group "no spaces": /),
    });
  });

  it('takes a positive integer limit or the fallback', () => {
    expect(positiveLimit(undefined, 100, 'deadLetters')).toBe(100);
    expect(positiveLimit(3, 100, 'deadLetters')).toBe(3);
    for (const bad of [0, -1, 2.5]) {
      expect(thrown(() => positiveLimit(bad, 100, 'deadLetters'))).toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: `deadLetters limit must be a positive integer, got ${bad}`,
      });
    }
  });

  it('takes message ids as non-empty strings, without repeats', () => {
    expect(messageIds(['a', 'b', 'a'], 'redrive')).toEqual(['a', 'b']);
    expect(messageIds([], 'redrive')).toEqual([]);
    expect(thrown(() => messageIds(['a', ''], 'discardDeadLetters'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'discardDeadLetters ids must be non-empty strings, got ""',
    });
    expect(thrown(() => messageIds('a' as unknown as string[], 'redrive'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'redrive ids must be an array of message ids, got "a"',
    });
  });

  it('quotes strings, shows plain values and only the type of anything else', () => {
    expect([quote('a"b'), quote(3), quote(true), quote(null), quote(undefined), quote({ secret: 'x' })]).toEqual([
      '"a\\"b"',
      '3',
      'true',
      'null',
      'undefined',
      'object',
    ]);
  });

  it('builds the CLOSED and GROUP_NOT_FOUND errors every bus throws', () => {
    expect(busClosed('InMemoryBus', 'send')).toMatchObject({
      code: 'CLOSED',
      message: 'Cannot send: this InMemoryBus is closed. Create a new bus to continue.',
    });
    expect(groupNotFound('team')).toMatchObject({ code: 'GROUP_NOT_FOUND', kind: 'user', details: { group: 'team' } });
  });

  it('parses a broadcast: a group instead of a recipient', () => {
    expect(parseBroadcastInput({ from: 'host', group: 'team', content: 'hi' })).toMatchObject({ group: 'team' });
    expect(thrown(() => parseBroadcastInput({ from: 'host', content: 'hi' } as never))).toMatchObject({
      code: 'INVALID_MESSAGE',
      message: expect.stringMatching(/group/),
    });
  });
});
