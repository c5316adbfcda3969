import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AgentrixError,
  AgentSpecSchema,
  backoffDelay,
  createSequentialIds,
  defineTool,
  MessageEnvelopeSchema,
  parseWith,
  serializeError,
  sleep,
  toAgentrixError,
} from './index.js';

describe('AgentrixError', () => {
  it('carries code, kind, retryable flag and cause', () => {
    const cause = new Error('socket hang up');
    const error = new AgentrixError('MODEL_ERROR', 'model failed', { cause, agentId: 'a1' });
    expect(error.code).toBe('MODEL_ERROR');
    expect(error.kind).toBe('system');
    expect(error.isRetryable).toBe(true);
    // The cause is kept as a redacted copy: same name, message and code, nothing else.
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as Error).message).toBe('socket hang up');
    const agentrixCause = new AgentrixError('TIMEOUT', 'slow');
    expect(new AgentrixError('MODEL_ERROR', 'x', { cause: agentrixCause }).cause).toBe(agentrixCause);
    expect(error.agentId).toBe('a1');
    expect(new AgentrixError('INVALID_AGENT_SPEC', 'bad').kind).toBe('user');
    expect(new AgentrixError('INVALID_AGENT_SPEC', 'bad').isRetryable).toBe(false);
  });

  it('is recognised across copies through its Symbol.for brand', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('agentrix.error')]: true, code: 'INTERNAL' });
    expect(AgentrixError.isInstance(foreign)).toBe(true);
    expect(AgentrixError.isInstance(new Error('x'))).toBe(false);
    expect(AgentrixError.isInstance(null)).toBe(false);
  });

  it('serializes with nested causes and wraps unknown values', () => {
    const error = toAgentrixError(new TypeError('boom'), 'TOOL_FAILED');
    expect(error.code).toBe('TOOL_FAILED');
    expect(serializeError(error)).toMatchObject({ code: 'TOOL_FAILED', message: 'boom', cause: { name: 'TypeError' } });
    expect(serializeError('plain')).toEqual({ name: 'NonError', message: 'plain' });
    const same = new AgentrixError('TIMEOUT', 't');
    expect(toAgentrixError(same)).toBe(same);
  });
});

describe('schemas', () => {
  it('fills agent spec defaults', () => {
    const spec = AgentSpecSchema.parse({ id: 'a1' });
    expect(spec).toMatchObject({ model: 'default', maxSteps: 8, tools: [], stream: true, maxHistory: 50 });
  });

  it('rejects a bad spec with a readable message naming each field', () => {
    expect(() =>
      parseWith(AgentSpecSchema, { id: 'has space', maxSteps: 0 }, 'INVALID_AGENT_SPEC', 'agent spec'),
    ).toThrow(/Invalid agent spec: id: .*; maxSteps: /);
    try {
      parseWith(AgentSpecSchema, { maxSteps: 'x' }, 'INVALID_AGENT_SPEC', 'agent spec');
    } catch (error) {
      expect(AgentrixError.isInstance(error) && error.code).toBe('INVALID_AGENT_SPEC');
    }
  });

  it('validates envelopes', () => {
    const ok = MessageEnvelopeSchema.safeParse({
      id: 'm1',
      from: 'host',
      to: 'a1',
      type: 'message',
      content: 'hi',
      createdAt: 1,
    });
    expect(ok.success).toBe(true);
    const bad = MessageEnvelopeSchema.safeParse({
      id: 'm1',
      from: 'host',
      to: '',
      type: 'message',
      content: 'hi',
      createdAt: 1,
    });
    expect(bad.success).toBe(false);
  });
});

describe('defineTool', () => {
  it('computes JSON Schema once and keeps the executor', async () => {
    const tool = defineTool({
      name: 'add',
      description: 'adds',
      input: z.object({ a: z.number(), b: z.number().default(1) }),
      execute: ({ a, b }) => a + b,
    });
    expect(tool.parameters).toMatchObject({ type: 'object', properties: { a: { type: 'number' } }, required: ['a'] });
    expect(tool.parameters.$schema).toBeUndefined();
    expect(await tool.execute({ a: 2, b: 3 }, {} as never)).toBe(5);
  });

  it('rejects invalid names and timeouts', () => {
    const input = z.object({});
    expect(() => defineTool({ name: 'bad name', description: '', input, execute: () => 1 })).toThrow(
      /Invalid tool name/,
    );
    expect(() => defineTool({ name: 'ok', description: '', input, timeoutMs: 0, execute: () => 1 })).toThrow(
      /timeoutMs/,
    );
  });
});

describe('helpers', () => {
  it('generates sequential ids', () => {
    const next = createSequentialIds('m');
    expect([next(), next()]).toEqual(['m-1', 'm-2']);
  });

  it('computes capped exponential backoff with jitter', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    expect(backoffDelay(1, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
  });

  it('sleep rejects with ABORTED when the signal fires', async () => {
    const controller = new AbortController();
    const pending = sleep(10_000, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
