// Retries, timeouts and approvals reach the injected logger, in pino's order (issue 12, item 8).
import { AgentrixError, type ToolCall } from '@agentrix/core';
import { FakeClock } from '@agentrix/testing';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { capturingLogger } from './fixtures/capturing-logger.js';
import { defineSkill } from './skill.js';
import { SkillExecutor } from './skill-executor.js';
import { SkillRegistry } from './skill-registry.js';

const call = (name: string, args: unknown, id: string): ToolCall => ({ id, name, arguments: JSON.stringify(args) });
const context = () => ({ agentId: 'a1', turnId: 't1', signal: new AbortController().signal });

describe('SkillExecutor logs', () => {
  it('logs retries and timeouts (warn) and approvals (info) with structured fields', async () => {
    const clock = new FakeClock();
    const logger = capturingLogger();
    const registry = new SkillRegistry();
    const executor = new SkillExecutor({
      registry,
      clock,
      logger,
      random: () => 0.5,
      retry: { attempts: 2, baseDelayMs: 200 },
    });
    let attempts = 0;
    registry.register(
      defineSkill({
        name: 'flaky',
        description: '',
        input: z.object({}),
        execute: () => {
          if (++attempts === 1) throw new AgentrixError('RATE_LIMITED', 'slow down');
          return 'ok';
        },
      }),
    );
    registry.register(
      defineSkill({
        name: 'hang',
        description: '',
        input: z.object({}),
        timeoutMs: 1_000,
        execute: () => new Promise(() => {}),
      }),
    );
    registry.register(
      defineSkill({
        name: 'wire',
        description: '',
        input: z.object({}),
        requiresApproval: true,
        execute: () => 'sent',
      }),
    );

    const retried = executor.executeToolCall(call('flaky', {}, 'c1'), undefined, context());
    await clock.runAll();
    expect((await retried).content).toBe('ok');
    const hung = executor.executeToolCall(call('hang', {}, 'c2'), undefined, context());
    await clock.advance(1_000);
    expect((await hung).isError).toBe(true);
    const approving = executor.executeToolCall(call('wire', {}, 'c3'), undefined, context());
    await vi.waitFor(() => expect(executor.approvals.pending()).toHaveLength(1));
    executor.approvals.approve(executor.approvals.pending()[0]!.id, { by: 'ops' });
    expect((await approving).content).toBe('sent');

    const approvalId = expect.any(String);
    expect(logger.lines).toEqual([
      {
        level: 'warn',
        message: 'tool call failed; retrying',
        fields: expect.objectContaining({
          agentId: 'a1',
          turnId: 't1',
          toolCallId: 'c1',
          toolName: 'flaky',
          attempt: 1,
          delayMs: 150,
          code: 'RATE_LIMITED',
          error: expect.objectContaining({ code: 'RATE_LIMITED', message: 'slow down' }),
        }),
      },
      {
        level: 'warn',
        message: 'tool call timed out; a late result will be ignored',
        fields: {
          agentId: 'a1',
          turnId: 't1',
          toolCallId: 'c2',
          toolName: 'hang',
          timeoutMs: 1_000,
          code: 'TOOL_TIMEOUT',
        },
      },
      {
        level: 'info',
        message: 'approval requested for tool "wire"',
        fields: expect.objectContaining({ approvalId, agentId: 'a1', toolCallId: 'c3', toolName: 'wire' }),
      },
      {
        level: 'info',
        message: 'approval approved for tool "wire"',
        fields: expect.objectContaining({
          approvalId,
          agentId: 'a1',
          toolName: 'wire',
          outcome: 'approved',
          by: 'ops',
        }),
      },
    ]);
  });
});
