// A skill that ignores its AbortSignal and never settles must not wedge a turn (issue 12, item 2).
import { AgentrixError, DEFAULT_TOOL_TIMEOUT_MS, type ToolCall } from '@agentrix/core';
import { FakeClock } from '@agentrix/testing';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryIdempotencyStore } from './in-memory-idempotency-store.js';
import { defineSkill } from './skill.js';
import { SkillExecutor } from './skill-executor.js';
import type { SkillExecutorOptions } from './skill-executor-options.js';
import { SkillRegistry } from './skill-registry.js';

const call = (name: string, args: unknown, id = 'c1'): ToolCall => ({ id, name, arguments: JSON.stringify(args) });
const errorOf = (content: string) => JSON.parse(content).error as { code: string; message: string; retryable: boolean };

interface Deferred {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** A skill that ignores its signal: every call hangs until the test settles it by hand. */
function deafSkill(calls: Deferred[], extras: { timeoutMs?: number; keyed?: boolean } = {}) {
  return defineSkill({
    name: 'deaf',
    description: 'never listens to its signal',
    input: z.object({ id: z.string() }),
    ...(extras.timeoutMs !== undefined ? { timeoutMs: extras.timeoutMs } : {}),
    ...(extras.keyed ? { idempotencyKey: (input: { id: string }) => input.id } : {}),
    execute: () => new Promise((resolve, reject) => calls.push({ resolve, reject })),
  });
}

function setup(options: SkillExecutorOptions = {}) {
  const clock = new FakeClock();
  const registry = new SkillRegistry();
  const idempotency = new InMemoryIdempotencyStore({ clock });
  const executor = new SkillExecutor({ registry, clock, idempotency, ...options });
  return { clock, registry, idempotency, executor };
}

describe('SkillExecutor deadlines', () => {
  it('fails a skill that never settles with TOOL_TIMEOUT after the default 60 s, and ignores its late result', async () => {
    const { clock, registry, executor } = setup();
    const calls: Deferred[] = [];
    registry.register(deafSkill(calls));
    const context = { agentId: 'a1', turnId: 't1', signal: new AbortController().signal };
    const pending = executor.executeToolCall(call('deaf', { id: 'x' }), undefined, context);
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await clock.advance(DEFAULT_TOOL_TIMEOUT_MS - 1);
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await clock.advance(0);
    expect(settled).toBe(false);
    await clock.advance(1);
    const message = await pending;
    expect(errorOf(message.content).code).toBe('TOOL_TIMEOUT');
    expect(errorOf(message.content).message).toContain('60000 ms');
    // The abandoned call settles late: its result and its rejection go nowhere (no unhandled rejection).
    calls[0]!.resolve('too late');
    await clock.advance(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('takes the deadline from the skill, else from the executor', async () => {
    const { clock, registry, executor } = setup({ defaultTimeoutMs: 500 });
    const calls: Deferred[] = [];
    registry.register(deafSkill(calls));
    const fromExecutor = executor.call('deaf', { id: 'x' });
    const outcome = fromExecutor.catch((error: unknown) => error);
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await clock.advance(500);
    expect(await outcome).toMatchObject({ code: 'TOOL_TIMEOUT', details: { timeoutMs: 500 } });
    calls[0]!.reject(new Error('late failure'));

    const own = setup({ defaultTimeoutMs: 500 });
    const ownCalls: Deferred[] = [];
    own.registry.register(deafSkill(ownCalls, { timeoutMs: 2_000 }));
    const fromSkill = own.executor.call('deaf', { id: 'y' }).catch((error: unknown) => error);
    await vi.waitFor(() => expect(ownCalls).toHaveLength(1));
    await own.clock.advance(1_999);
    ownCalls[0]!.resolve('in time');
    expect(await fromSkill).toBe('in time');

    expect(() => new SkillExecutor({ defaultTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/defaultTimeoutMs/) }),
    );
  });

  it("rejects at once when the turn's signal fires, though the skill never settles", async () => {
    const { registry, executor } = setup();
    const calls: Deferred[] = [];
    registry.register(deafSkill(calls));
    const controller = new AbortController();
    const context = { agentId: 'a1', turnId: 't1', signal: controller.signal };
    const pending = executor.executeToolCall(call('deaf', { id: 'x' }), undefined, context);
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    controller.abort(new AgentrixError('TURN_TIMEOUT', 'the turn ran out of time'));
    await expect(pending).rejects.toMatchObject({ code: 'TURN_TIMEOUT' });
    calls[0]!.reject(new Error('late failure'));
  });

  it('releases the idempotency key of a timed-out call, so a retry runs and records its own result', async () => {
    const { clock, registry, executor, idempotency } = setup({ defaultTimeoutMs: 1_000 });
    const calls: Deferred[] = [];
    registry.register(deafSkill(calls, { keyed: true }));
    const context = { agentId: 'a1', turnId: 't1', signal: new AbortController().signal };
    const first = executor.executeToolCall(call('deaf', { id: 'order-1' }), undefined, context);
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await clock.advance(1_000);
    expect(errorOf((await first).content).code).toBe('TOOL_TIMEOUT');
    expect(await idempotency.get('deaf:order-1')).toBeUndefined();

    const retry = executor.executeToolCall(call('deaf', { id: 'order-1' }, 'c2'), undefined, context);
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    calls[0]!.resolve('late result of the first call');
    calls[1]!.resolve('result of the retry');
    expect((await retry).content).toBe('result of the retry');
    await clock.advance(0);
    expect(await idempotency.get('deaf:order-1')).toMatchObject({
      status: 'completed',
      result: 'result of the retry',
    });
  });

  it('releases the key when the turn is aborted under a call that never settles', async () => {
    const { registry, executor, idempotency } = setup();
    const calls: Deferred[] = [];
    registry.register(deafSkill(calls, { keyed: true }));
    const controller = new AbortController();
    const pending = executor.executeToolCall(call('deaf', { id: 'order-2' }), undefined, {
      agentId: 'a1',
      turnId: 't1',
      signal: controller.signal,
    });
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await idempotency.get('deaf:order-2')).toBeUndefined();
  });
});
