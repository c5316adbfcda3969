import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AgentrixError,
  type AgentrixErrorCode,
  type AgentrixErrorCodeExtensions,
  type AgentrixErrorKind,
  formatIssues,
  parseWith,
  REDACTED,
  serializeError,
  toAgentrixError,
} from './index.js';

/**
 * The table of docs/architecture.md ("Errors"), one row per code: who is at fault and whether the
 * same call may succeed later. A `Record` over core's codes: a new code does not compile until
 * it has its row here (codes other packages merge in are theirs to test).
 */
const TABLE: Record<Exclude<AgentrixErrorCode, keyof AgentrixErrorCodeExtensions>, [AgentrixErrorKind, boolean]> = {
  INVALID_ARGUMENT: ['user', false],
  INVALID_AGENT_SPEC: ['user', false],
  INVALID_MESSAGE: ['user', false],
  MESSAGE_TOO_LARGE: ['user', false],
  AGENT_NOT_FOUND: ['user', false],
  AGENT_EXISTS: ['user', false],
  AGENT_TERMINATED: ['user', false],
  AGENT_PAUSED: ['user', false],
  DELEGATION_CYCLE: ['user', false],
  THREAD_NOT_FOUND: ['user', false],
  ILLEGAL_STATE_TRANSITION: ['user', false],
  GROUP_NOT_FOUND: ['user', false],
  MODEL_NOT_FOUND: ['user', false],
  TOOL_NOT_FOUND: ['user', false],
  TOOL_EXISTS: ['user', false],
  TOOL_INPUT_INVALID: ['user', false],
  UNSUPPORTED_CONTEXT_VERSION: ['user', false],
  MALFORMED_REQUEST: ['user', false],
  REQUEST_TOO_LARGE: ['user', false],
  UNAUTHORIZED: ['user', false],
  FORBIDDEN: ['user', false],
  NOT_FOUND: ['user', false],
  TOOL_FAILED: ['system', false],
  TOOL_TIMEOUT: ['system', true],
  MODEL_ERROR: ['system', true],
  MODEL_RESPONSE_INVALID: ['system', false],
  PROVIDER_BAD_REQUEST: ['system', false],
  RATE_LIMITED: ['system', true],
  CONTEXT_LENGTH_EXCEEDED: ['system', false],
  AUTH_FAILED: ['system', false],
  DATABASE_NOT_FOUND: ['system', false],
  AGENT_FAILED: ['system', false],
  BUDGET_EXCEEDED: ['system', false],
  TURN_TIMEOUT: ['system', true],
  TIMEOUT: ['system', true],
  ABORTED: ['system', false],
  CLOSED: ['system', false],
  BUS_UNAVAILABLE: ['system', true],
  STORE_UNAVAILABLE: ['system', true],
  CHANNEL_ERROR: ['system', false],
  INTERNAL: ['system', false],
};

describe('the error table', () => {
  for (const [code, [kind, retryable]] of Object.entries(TABLE) as [
    AgentrixErrorCode,
    [AgentrixErrorKind, boolean],
  ][]) {
    it(`${code} is a ${kind} error, ${retryable ? '' : 'not '}retryable`, () => {
      const error = new AgentrixError(code, 'x');
      expect([error.kind, error.isRetryable]).toEqual([kind, retryable]);
      expect(serializeError(error)).toMatchObject({ code, retryable });
    });
  }

  it('lets the thrower decide retryability, in both directions, without changing the kind', () => {
    expect(new AgentrixError('RATE_LIMITED', 'insufficient_quota', { retryable: false })).toMatchObject({
      kind: 'system',
      isRetryable: false,
    });
    expect(new AgentrixError('MODEL_RESPONSE_INVALID', 'bad body', { retryable: true })).toMatchObject({
      kind: 'system',
      isRetryable: true,
    });
  });
});

describe('AgentrixError fields and serialization', () => {
  it('keeps the structured fields the thrower gave', () => {
    const error = new AgentrixError('TOOL_TIMEOUT', 'slow tool', {
      agentId: 'a1',
      toolName: 'search',
      details: { timeoutMs: 50 },
      retryAfterMs: 1_000,
    });
    expect(error).toMatchObject({
      name: 'AgentrixError',
      message: 'slow tool',
      agentId: 'a1',
      toolName: 'search',
      details: { timeoutMs: 50 },
      retryAfterMs: 1_000,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.stack).toContain('errors.test.ts');
  });

  it('serializes the same through toJSON, JSON.stringify and serializeError', () => {
    const error = new AgentrixError('STORE_UNAVAILABLE', 'down', {
      cause: new AgentrixError('TIMEOUT', 'no answer in 10 s'),
      details: { attempt: 2 },
    });
    const expected = {
      name: 'AgentrixError',
      message: 'down',
      code: 'STORE_UNAVAILABLE',
      retryable: true,
      details: { attempt: 2 },
      cause: { name: 'AgentrixError', message: 'no answer in 10 s', code: 'TIMEOUT', retryable: true },
    };
    expect(serializeError(error)).toEqual(expected);
    expect(error.toJSON()).toEqual(expected);
    expect(JSON.parse(JSON.stringify(error))).toEqual(expected);
  });

  it('keeps a plain error’s string code and stops the cause chain after three levels', () => {
    const system = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', errno: -111 });
    expect(serializeError(system)).toEqual({ name: 'Error', message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' });
    let chain: unknown = new Error('level 5');
    for (let level = 4; level >= 0; level--) chain = new Error(`level ${level}`, { cause: chain });
    const serialized = serializeError(chain);
    const depth = (value: { cause?: unknown } | undefined): number =>
      value === undefined ? 0 : 1 + depth(value.cause as { cause?: unknown } | undefined);
    expect(depth(serialized)).toBe(4);
    expect(serialized.cause?.cause?.cause?.message).toBe('level 3');
  });

  it('redacts an error already serialized (from a bus or a store) again on the way out', () => {
    const stored = {
      name: 'AgentrixError',
      message: 'failed for sk-proj-abcdefghijklmnopqrstuvwx',
      code: 'AUTH_FAILED',
    };
    const serialized = serializeError(stored, { secrets: ['hunter2'] });
    expect(serialized.message).not.toContain('sk-proj-abcdefghijklmnopqrstuvwx');
    expect(serialized.code).toBe('AUTH_FAILED');
    expect(serializeError({ ...stored, message: 'pw hunter2' }, { secrets: ['hunter2'] }).message).toBe(
      `pw ${REDACTED}`,
    );
  });

  it('wraps anything thrown with the code and options given, keeping an AgentrixError as it is', () => {
    const wrapped = toAgentrixError('plain string', 'TOOL_FAILED', { toolName: 'search' });
    expect(wrapped).toMatchObject({ code: 'TOOL_FAILED', message: 'plain string', toolName: 'search' });
    expect(wrapped.cause).toMatchObject({ name: 'NonError', message: 'plain string' }); // a redacted copy
    expect(toAgentrixError(new RangeError('out of range')).code).toBe('INTERNAL');
  });
});

describe('validation', () => {
  const Schema = z.object({
    name: z.string().min(1),
    limits: z.object({ steps: z.array(z.number().int()) }),
    mode: z.enum(['a', 'b']).default('a'),
  });

  it('returns the parsed value with its defaults', () => {
    expect(parseWith(Schema, { name: 'x', limits: { steps: [1] } }, 'INVALID_ARGUMENT', 'options')).toEqual({
      name: 'x',
      limits: { steps: [1] },
      mode: 'a',
    });
  });

  it('names every failing field by its path, and the root when the value itself is wrong', () => {
    const error = (() => {
      try {
        parseWith(Schema, { name: '', limits: { steps: [1, 2.5] } }, 'INVALID_AGENT_SPEC', 'agent spec');
      } catch (caught) {
        return caught as AgentrixError;
      }
      throw new Error('expected a throw');
    })();
    expect(error.code).toBe('INVALID_AGENT_SPEC');
    expect(error.message).toMatch(/^Invalid agent spec: name: .+; limits\.steps\.1: .+$/);
    expect(error.details?.issues).toHaveLength(2);
    const root = z.string().safeParse(5);
    expect(root.success || formatIssues(root.error)).toMatch(/^\(root\): /);
  });
});
