// Tool errors sent back to the model, events, approval records and logs carry no secret (issue 12, item 4).
import { AgentrixError, AgentrixEvents, type ToolCall, type ToolMessage } from '@agentrix/core';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { capturingLogger } from './fixtures/capturing-logger.js';
import { defineSkill } from './skill.js';
import { SkillExecutor } from './skill-executor.js';
import { SkillRegistry } from './skill-registry.js';

/** Looks like nothing in particular: only the host's list can catch it. */
const SECRET = 'tok4f9a2c7e1b58d3';
const PASSWORD = 'hunter2-Pw';
const URL_WITH_PASSWORD = `https://billing:${PASSWORD}@billing.example.com/v1/charges`;

const call = (name: string, args: unknown, id: string): ToolCall => ({ id, name, arguments: JSON.stringify(args) });

describe('SkillExecutor redaction', () => {
  it('keeps registered secrets and URL passwords out of tool messages, events, approval records and logs', async () => {
    const events = new AgentrixEvents();
    const logger = capturingLogger();
    const registry = new SkillRegistry({ events });
    const executor = new SkillExecutor({
      registry,
      events,
      logger,
      secrets: [SECRET, undefined],
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const emitted: unknown[] = [];
    for (const name of [
      'skill.retry',
      'approval.requested',
      'approval.resolved',
      'tool.called',
      'tool.completed',
    ] as const) {
      events.on(name, (event: unknown) => emitted.push(event));
    }
    registry.register(
      defineSkill({
        name: 'charge',
        description: '',
        input: z.object({}),
        execute: () => {
          throw new Error(`billing refused key ${SECRET} at ${URL_WITH_PASSWORD}`);
        },
      }),
    );
    registry.register(
      defineSkill({
        name: 'refund',
        description: '',
        input: z.object({}),
        execute: () => {
          throw new AgentrixError('RATE_LIMITED', `slow down, ${SECRET}`, {
            details: { endpoint: URL_WITH_PASSWORD, key: SECRET },
          });
        },
      }),
    );
    registry.register(
      defineSkill({
        name: 'wire',
        description: '',
        input: z.object({ note: z.string() }),
        requiresApproval: true,
        execute: () => 'sent',
      }),
    );
    const context = { agentId: 'a1', turnId: 't1', signal: new AbortController().signal };
    const messages: ToolMessage[] = [];
    messages.push(await executor.executeToolCall(call('charge', {}, 'c1'), undefined, context));
    messages.push(await executor.executeToolCall(call('refund', {}, 'c2'), undefined, context));
    const approving = executor.executeToolCall(call('wire', { note: `use ${SECRET}` }, 'c3'), undefined, context);
    await vi.waitFor(() => expect(executor.approvals.pending()).toHaveLength(1));
    const records = executor.approvals.pending();
    executor.approvals.reject(records[0]!.id, `not with ${SECRET}`);
    messages.push(await approving);

    // Each path was taken, and says what happened without the secret.
    expect(messages.map((message) => message.isError)).toEqual([true, true, true]);
    expect(JSON.parse(messages[0]!.content).error.message).toBe(
      'Tool "charge" failed: billing refused key *** at https://billing:***@billing.example.com/v1/charges',
    );
    expect(JSON.parse(messages[1]!.content).error).toMatchObject({
      code: 'RATE_LIMITED',
      details: { endpoint: 'https://billing:***@billing.example.com/v1/charges', key: '***' },
    });
    expect(records[0]!.input).toEqual({ note: 'use ***' });
    expect(emitted.length).toBeGreaterThanOrEqual(8);
    expect(logger.lines.some((line) => line.message === 'tool call failed; retrying')).toBe(true);

    const everything = JSON.stringify({ messages, emitted, records, logs: logger.lines });
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(PASSWORD);
  });

  it('passes the real input to the skill while the approval record shows a redacted copy', async () => {
    const registry = new SkillRegistry();
    const executor = new SkillExecutor({ registry, secrets: [SECRET] });
    const seen = vi.fn((input: { note: string }) => input.note);
    registry.register(
      defineSkill({
        name: 'wire',
        description: '',
        input: z.object({ note: z.string() }),
        requiresApproval: true,
        execute: seen,
      }),
    );
    const pending = executor.call('wire', { note: `use ${SECRET}` });
    await vi.waitFor(() => expect(executor.approvals.pending()).toHaveLength(1));
    expect(executor.approvals.pending()[0]!.input).toEqual({ note: 'use ***' });
    executor.approvals.approve(executor.approvals.pending()[0]!.id);
    expect(await pending).toBe(`use ${SECRET}`);
  });
});
