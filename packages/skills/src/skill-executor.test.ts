import { AgentrixError, AgentrixEvents, defineTool, type ToolCall } from '@agentrix/core';
import { FakeClock } from '@agentrix/testing';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ApprovalGate } from './approval-gate.js';
import { InMemoryIdempotencyStore } from './in-memory-idempotency-store.js';
import { defineSkill } from './skill.js';
import { SkillExecutor } from './skill-executor.js';
import { SkillRegistry } from './skill-registry.js';

const context = (signal = new AbortController().signal) => ({ agentId: 'a1', turnId: 't1', signal });
const call = (name: string, args: unknown, id = 'c1'): ToolCall => ({
  id,
  name,
  arguments: typeof args === 'string' ? args : JSON.stringify(args),
});
const errorOf = (content: string) => JSON.parse(content).error as { code: string; message: string; retryable: boolean };

function setup(options: ConstructorParameters<typeof SkillExecutor>[0] = {}) {
  const events = new AgentrixEvents();
  const registry = new SkillRegistry({ events });
  const executor = new SkillExecutor({ registry, events, ...options });
  return { events, registry, executor };
}

describe('SkillExecutor', () => {
  it('validates input before the skill runs and returns structured errors', async () => {
    const { registry, executor } = setup();
    const execute = vi.fn(({ a, b }: { a: number; b: number }) => ({ sum: a + b }));
    registry.register(
      defineSkill({ name: 'add', description: 'adds', input: z.object({ a: z.number(), b: z.number() }), execute }),
    );
    const ok = await executor.executeToolCall(call('add', { a: 1, b: 2 }), undefined, context());
    expect(ok).toEqual({ role: 'tool', toolCallId: 'c1', name: 'add', content: '{"sum":3}' });

    const bad = await executor.executeToolCall(call('add', { a: 'x' }), undefined, context());
    expect(bad.isError).toBe(true);
    expect(errorOf(bad.content).code).toBe('TOOL_INPUT_INVALID');
    expect(errorOf(bad.content).message).toMatch(/a: .*number/);

    const json = await executor.executeToolCall(call('add', '{oops'), undefined, context());
    expect(errorOf(json.content).code).toBe('TOOL_INPUT_INVALID');
    const missing = await executor.executeToolCall(call('nope', {}), undefined, context());
    expect(errorOf(missing.content)).toMatchObject({ code: 'TOOL_NOT_FOUND' });
    expect(errorOf(missing.content).message).toContain('Available tools: add');
    expect(execute).toHaveBeenCalledTimes(1);
  });

  it('only lets an agent call skills on its allow-list', async () => {
    const { registry, executor } = setup();
    registry.register(defineSkill({ name: 'open', description: '', input: z.object({}), execute: () => 'open' }));
    registry.register(defineSkill({ name: 'secret', description: '', input: z.object({}), execute: () => 'secret' }));
    const skills = registry.select(['open']);
    expect(skills.definitions.map((definition) => definition.name)).toEqual(['open']);
    const denied = await executor.executeToolCall(call('secret', {}), skills, context());
    expect(errorOf(denied.content).code).toBe('TOOL_NOT_FOUND');
    expect((await executor.executeToolCall(call('open', {}), skills, context())).content).toBe('open');
  });

  it('returns the stored result for a repeated idempotency key without acting twice', async () => {
    const store = new InMemoryIdempotencyStore();
    const { registry, executor, events } = setup({ idempotency: store });
    let charges = 0;
    registry.register(
      defineSkill({
        name: 'charge',
        description: 'charges a card',
        input: z.object({ orderId: z.string(), cents: z.number() }),
        idempotencyKey: (input) => input.orderId,
        execute: ({ cents }) => ({ charged: cents, n: ++charges }),
      }),
    );
    const deduplicated = vi.fn();
    events.on('skill.deduplicated', deduplicated);
    const first = await executor.executeToolCall(call('charge', { orderId: 'o1', cents: 5 }), undefined, context());
    const again = await executor.executeToolCall(
      call('charge', { orderId: 'o1', cents: 5 }, 'c2'),
      undefined,
      context(),
    );
    expect(again.content).toBe(first.content);
    expect(charges).toBe(1);
    expect(deduplicated).toHaveBeenCalledWith(expect.objectContaining({ key: 'charge:o1', toolCallId: 'c2' }));
    expect(await store.get('charge:o1')).toMatchObject({ status: 'completed', result: { charged: 5, n: 1 } });
    // A fresh executor over the same store (a restarted process) still does not act twice.
    const restarted = new SkillExecutor({ registry, idempotency: store });
    await restarted.call('charge', { orderId: 'o1', cents: 5 });
    expect(charges).toBe(1);
  });

  it("hashes the input with the 'input' strategy and releases the key when the call fails", async () => {
    const store = new InMemoryIdempotencyStore();
    const { registry, executor } = setup({ idempotency: store });
    let runs = 0;
    registry.register(
      defineSkill({
        name: 'flaky',
        description: '',
        input: z.object({ x: z.number(), y: z.number() }),
        idempotencyKey: 'input',
        execute: () => {
          runs++;
          if (runs === 1) throw new Error('boom');
          return 'done';
        },
      }),
    );
    const failed = await executor.executeToolCall(call('flaky', { x: 1, y: 2 }), undefined, context());
    expect(errorOf(failed.content)).toMatchObject({ code: 'TOOL_FAILED', retryable: false });
    expect(store.size).toBe(0);
    // Same input in another key order: same key, and the released key may act again.
    expect((await executor.executeToolCall(call('flaky', '{"y":2,"x":1}'), undefined, context())).content).toBe('done');
    expect((await executor.executeToolCall(call('flaky', { x: 1, y: 2 }), undefined, context())).content).toBe('done');
    expect(runs).toBe(2);
  });

  it('reports a key held by a running call as a retryable error', async () => {
    const { registry, executor } = setup();
    let release!: () => void;
    registry.register(
      defineSkill({
        name: 'slow',
        description: '',
        input: z.object({ id: z.string() }),
        idempotencyKey: (input) => input.id,
        execute: () => new Promise<string>((resolve) => (release = () => resolve('ok'))),
      }),
    );
    const first = executor.executeToolCall(call('slow', { id: 'k' }), undefined, context());
    await vi.waitFor(() => expect(release).toBeTypeOf('function'));
    const second = await executor.executeToolCall(call('slow', { id: 'k' }, 'c2'), undefined, context());
    expect(errorOf(second.content)).toMatchObject({ code: 'TOOL_FAILED', retryable: true });
    release();
    expect((await first).content).toBe('ok');
  });

  it('times out a slow attempt and aborts its signal', async () => {
    const clock = new FakeClock();
    const { registry, executor } = setup({ clock });
    let seen: AbortSignal | undefined;
    registry.register(
      defineSkill({
        name: 'hang',
        description: '',
        input: z.object({}),
        timeoutMs: 1_000,
        execute: (_input, ctx) => {
          seen = ctx.signal;
          return new Promise(() => {});
        },
      }),
    );
    const pending = executor.executeToolCall(call('hang', {}), undefined, context());
    await vi.waitFor(() => expect(seen).toBeDefined());
    await clock.advance(1_000);
    const result = await pending;
    expect(errorOf(result.content).code).toBe('TOOL_TIMEOUT');
    expect(seen?.aborted).toBe(true);
  });

  it('rejects when the turn is aborted instead of returning a tool error', async () => {
    const { registry, executor } = setup();
    registry.register(
      defineSkill({
        name: 'wait',
        description: '',
        input: z.object({}),
        execute: (_input, ctx) =>
          new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
      }),
    );
    const controller = new AbortController();
    const pending = executor.executeToolCall(call('wait', {}), undefined, context(controller.signal));
    controller.abort(new AgentrixError('TURN_TIMEOUT', 'turn too long'));
    await expect(pending).rejects.toMatchObject({ code: 'TURN_TIMEOUT' });
  });

  it('retries retryable errors with backoff and gives up on the others', async () => {
    const clock = new FakeClock();
    const { registry, executor, events } = setup({
      clock,
      random: () => 0.5,
      retry: { attempts: 3, baseDelayMs: 100 },
    });
    let attempts = 0;
    registry.register(
      defineSkill({
        name: 'rate',
        description: '',
        input: z.object({}),
        execute: () => {
          attempts++;
          if (attempts < 3) throw new AgentrixError('RATE_LIMITED', 'slow down');
          return 'finally';
        },
      }),
    );
    const retries: number[] = [];
    events.on('skill.retry', ({ delayMs }) => retries.push(delayMs));
    const pending = executor.executeToolCall(call('rate', {}), undefined, context());
    await clock.runAll();
    expect((await pending).content).toBe('finally');
    expect(retries).toEqual([75, 150]);

    let plain = 0;
    registry.register(
      defineSkill({
        name: 'broken',
        description: '',
        input: z.object({}),
        execute: () => {
          plain++;
          throw new Error('bug');
        },
      }),
    );
    await executor.executeToolCall(call('broken', {}), undefined, context());
    expect(plain).toBe(1);
  });

  it('validates the output', async () => {
    const { registry, executor } = setup();
    registry.register(
      defineSkill({
        name: 'typed',
        description: '',
        input: z.object({ good: z.boolean() }),
        output: z.object({ n: z.number() }),
        execute: ({ good }) => (good ? { n: 1 } : ({ n: 'one' } as unknown as { n: number })),
      }),
    );
    expect((await executor.executeToolCall(call('typed', { good: true }), undefined, context())).content).toBe(
      '{"n":1}',
    );
    const bad = await executor.executeToolCall(call('typed', { good: false }), undefined, context());
    expect(errorOf(bad.content).code).toBe('TOOL_FAILED');
    expect(errorOf(bad.content).message).toMatch(/does not match its schema/);
  });

  it('runs consecutive canParallel calls together and keeps the order of results', async () => {
    const { registry, executor } = setup();
    const log: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const body =
      (name: string) =>
      async ({ id }: { id: string }) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        log.push(`start ${name}${id}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        log.push(`end ${name}${id}`);
        return `${name}${id}`;
      };
    const input = z.object({ id: z.string() });
    registry.register(defineSkill({ name: 'p', description: '', input, canParallel: true, execute: body('p') }));
    registry.register(defineSkill({ name: 's', description: '', input, execute: body('s') }));
    const calls = [
      call('p', { id: '1' }, 'a'),
      call('p', { id: '2' }, 'b'),
      call('s', { id: '3' }, 'c'),
      call('p', { id: '4' }, 'd'),
    ];
    const results = await executor.executeToolCalls(calls, undefined, context());
    expect(results.map((result) => result.content)).toEqual(['p1', 'p2', 's3', 'p4']);
    expect(maxInFlight).toBe(2);
    expect(log.indexOf('start s3')).toBeGreaterThan(log.indexOf('end p2'));
    expect(log.indexOf('start p4')).toBeGreaterThan(log.indexOf('end s3'));
  });

  it('truncates long results with a marker', async () => {
    const { registry, executor } = setup({ maxResultChars: 100 });
    registry.register(
      defineSkill({ name: 'big', description: '', input: z.object({}), execute: () => 'x'.repeat(1_000) }),
    );
    const result = await executor.executeToolCall(call('big', {}), undefined, context());
    expect(result.content.length).toBeLessThanOrEqual(100);
    expect(result.content).toMatch(/…\[truncated \d+ characters\]$/);
  });

  it("emits the core tool events on its stream, or on the call's when the call brings one", async () => {
    const { registry, executor, events } = setup();
    registry.register(defineTool({ name: 'plain', description: '', input: z.object({}), execute: () => 'ok' }));
    const own = vi.fn();
    events.on('tool.called', own);
    events.on('tool.completed', own);
    await executor.executeToolCall(call('plain', {}), undefined, context());
    expect(own).toHaveBeenCalledTimes(2);
    expect(own.mock.calls[1]?.[0]).toMatchObject({ name: 'plain', isError: false });

    const turn = new AgentrixEvents();
    const turns = vi.fn();
    turn.on('tool.completed', turns);
    await executor.executeToolCall(call('plain', {}), undefined, { ...context(), events: turn });
    expect(turns).toHaveBeenCalledTimes(1);
    expect(own).toHaveBeenCalledTimes(2);
  });

  it('has a stream of its own by default, shared with its approval gate', () => {
    const executor = new SkillExecutor();
    expect(executor.events).toBeInstanceOf(AgentrixEvents);
    expect(executor.approvals.events).toBe(executor.events);
  });

  it('calls skills from code with typed errors', async () => {
    const { registry, executor } = setup();
    registry.register(
      defineSkill({
        name: 'echo',
        description: '',
        input: z.object({ text: z.string() }),
        execute: ({ text }) => text,
      }),
    );
    expect(await executor.call('echo', { text: 'hi' })).toBe('hi');
    await expect(executor.call('echo', { text: 1 })).rejects.toMatchObject({ code: 'TOOL_INPUT_INVALID' });
    await expect(executor.call('missing', {})).rejects.toMatchObject({ code: 'TOOL_NOT_FOUND' });
  });
});

describe('approval gate in the executor', () => {
  const transfer = (
    requiresApproval: boolean | ((input: { amount: number }) => boolean),
    execute = vi.fn(() => 'sent'),
  ) =>
    defineSkill({
      name: 'transfer',
      description: '',
      input: z.object({ amount: z.number() }),
      requiresApproval,
      execute,
    });

  it('waits for approval, then runs', async () => {
    const { registry, executor, events } = setup();
    const execute = vi.fn(() => 'sent');
    registry.register(transfer(true, execute));
    const requested = vi.fn();
    events.on('approval.requested', requested);
    const pending = executor.executeToolCall(call('transfer', { amount: 5 }), undefined, context());
    await vi.waitFor(() => expect(executor.approvals.pending()).toHaveLength(1));
    const [request] = executor.approvals.pending();
    expect(request).toMatchObject({ agentId: 'a1', skill: 'transfer', input: { amount: 5 } });
    expect(execute).not.toHaveBeenCalled();
    executor.approvals.approve(request!.id, { by: 'ops' });
    expect((await pending).content).toBe('sent');
    expect(requested).toHaveBeenCalledTimes(1);
  });

  it('returns a rejection to the model, and never runs the skill', async () => {
    const { registry, executor } = setup();
    const execute = vi.fn(() => 'sent');
    registry.register(transfer((input) => input.amount > 100, execute));
    expect((await executor.executeToolCall(call('transfer', { amount: 5 }), undefined, context())).content).toBe(
      'sent',
    );
    const pending = executor.executeToolCall(call('transfer', { amount: 500 }), undefined, context());
    await vi.waitFor(() => expect(executor.approvals.pending('a1')).toHaveLength(1));
    executor.approvals.reject(executor.approvals.pending()[0]!.id, 'too much');
    const result = await pending;
    expect(errorOf(result.content).message).toContain('too much');
    expect(execute).toHaveBeenCalledTimes(1);
    expect(() => executor.approvals.approve('unknown')).toThrow(/No pending approval/);
  });

  it('rejects after the timeout', async () => {
    const clock = new FakeClock();
    const events = new AgentrixEvents();
    const approvals = new ApprovalGate({ clock, timeoutMs: 60_000, events });
    const { registry, executor } = setup({ clock, approvals });
    registry.register(transfer(true));
    const resolved = vi.fn();
    events.on('approval.resolved', resolved);
    const pending = executor.executeToolCall(call('transfer', { amount: 1 }), undefined, context());
    await vi.waitFor(() => expect(approvals.pending()).toHaveLength(1));
    await clock.advance(60_000);
    expect(errorOf((await pending).content).code).toBe('TIMEOUT');
    expect(resolved).toHaveBeenCalledWith(expect.objectContaining({ outcome: 'timed-out' }));
    expect(approvals.pending()).toHaveLength(0);
  });

  it('cancels the request when the turn aborts, and fails waiting calls on close', async () => {
    const { registry, executor } = setup();
    registry.register(transfer(true));
    const controller = new AbortController();
    const aborted = executor.executeToolCall(call('transfer', { amount: 1 }), undefined, context(controller.signal));
    await vi.waitFor(() => expect(executor.approvals.pending()).toHaveLength(1));
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    expect(executor.approvals.pending()).toHaveLength(0);

    const closing = executor.executeToolCall(call('transfer', { amount: 1 }), undefined, context());
    await vi.waitFor(() => expect(executor.approvals.pending()).toHaveLength(1));
    executor.approvals.close();
    expect(errorOf((await closing).content).code).toBe('CLOSED');
  });
});

describe('SkillRegistry', () => {
  it('never overwrites a name silently', () => {
    const registry = new SkillRegistry();
    const skill = defineSkill({ name: 'one', description: '', input: z.object({}), execute: () => 1 });
    registry.register(skill);
    registry.register(skill);
    expect(() =>
      registry.register(defineSkill({ name: 'one', description: 'other', input: z.object({}), execute: () => 2 })),
    ).toThrow(expect.objectContaining({ code: 'TOOL_EXISTS' }));
    expect(() => defineSkill({ name: 'bad name', description: '', input: z.object({}), execute: () => 1 })).toThrow(
      /Invalid skill name/,
    );
  });

  it('keeps live sets in step with registrations and filters by tag and prefix', () => {
    const registry = new SkillRegistry();
    const set = registry.select(['srv__*', 'local']);
    expect(set.definitions).toHaveLength(0);
    registry.register(
      defineSkill({ name: 'srv__read', description: '', input: z.object({}), tags: ['fs'], execute: () => 1 }),
    );
    registry.register(
      defineSkill({ name: 'local', description: '', input: z.object({ q: z.string() }), execute: () => 1 }),
    );
    registry.register(defineSkill({ name: 'other', description: '', input: z.object({}), execute: () => 1 }));
    expect(set.definitions.map((definition) => definition.name)).toEqual(['srv__read', 'local']);
    expect(set.definitions[1]?.parameters).toMatchObject({ type: 'object', properties: { q: { type: 'string' } } });
    expect(registry.list({ tags: ['fs'] }).map((skill) => skill.name)).toEqual(['srv__read']);
    registry.unregister('srv__read');
    expect(set.definitions.map((definition) => definition.name)).toEqual(['local']);
  });
});
