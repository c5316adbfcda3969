import type { ToolCall } from '@agentrix/core';
import { describe, expect, it, vi } from 'vitest';
import { createScheduleJobSkill, createSearchMemorySkill, createSpawnAgentSkill } from './builtin-skills.js';
import { SkillExecutor } from './skill-executor.js';
import { SkillRegistry } from './skill-registry.js';

const context = { agentId: 'planner', turnId: 't1', signal: new AbortController().signal };
const call = (name: string, args: unknown, id = 'c1'): ToolCall => ({ id, name, arguments: JSON.stringify(args) });

describe('built-in skills', () => {
  it('search_memory, spawn_agent and schedule_job call their ports', async () => {
    const registry = new SkillRegistry();
    const search = vi.fn(async () => [{ text: 'Ada likes tea', score: 0.9 }]);
    const spawn = vi.fn(async () => ({ id: 'child-1' }));
    const schedule = vi.fn(async () => ({ id: 'job-1', runAt: 61_000 }));
    registry.register(createSearchMemorySkill({ search }));
    registry.register(createSpawnAgentSkill({ spawn }));
    registry.register(createScheduleJobSkill({ schedule }, { now: () => 1_000 }));
    const executor = new SkillExecutor({ registry });

    const hits = await executor.executeToolCall(call('search_memory', { query: 'tea' }), undefined, context);
    expect(JSON.parse(hits.content)).toEqual([{ text: 'Ada likes tea', score: 0.9 }]);
    expect(search).toHaveBeenCalledWith({ agentId: 'planner', text: 'tea', limit: 5 }, expect.anything());

    const spawnArgs = { instructions: 'Research X', tools: ['search_memory'], task: 'go' };
    await executor.executeToolCall(call('spawn_agent', spawnArgs, 'c2'), undefined, context);
    // A replayed turn (same tool call id) does not spawn twice.
    const replay = await executor.executeToolCall(call('spawn_agent', spawnArgs, 'c2'), undefined, context);
    expect(JSON.parse(replay.content)).toEqual({ id: 'child-1' });
    expect(spawn).toHaveBeenCalledTimes(1);
    expect(spawn).toHaveBeenCalledWith(expect.objectContaining({ parentId: 'planner', task: 'go' }), expect.anything());

    await executor.executeToolCall(
      call('schedule_job', { content: 'check in', delaySeconds: 60 }, 'c3'),
      undefined,
      context,
    );
    expect(schedule).toHaveBeenCalledWith(
      { agentId: 'planner', content: 'check in', runAt: 61_000, idempotencyKey: 'planner:t1:c3' },
      expect.anything(),
    );
    const both = await executor.executeToolCall(
      call('schedule_job', { content: 'x', delaySeconds: 5, cron: '* * * * *' }),
      undefined,
      context,
    );
    expect(JSON.parse(both.content).error.code).toBe('TOOL_INPUT_INVALID');
  });
});
