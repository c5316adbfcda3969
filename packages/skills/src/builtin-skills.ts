import { z } from 'zod';
import { defineSkill, type Skill } from './skill.js';

// Built-in skills defined over small ports, so this package depends on neither the runtime, the
// memory nor the scheduler: the package that owns the capability passes the function in.
// `send_message` lives in @agentrix/runtime (it needs the bus) and is not repeated here.

/** One hit of {@link createSearchMemorySkill}'s port. */
export interface MemoryHit {
  text: string;
  score?: number;
  /** `working`, `episodic`, `semantic`, ... */
  tier?: string;
  id?: string;
}

export interface SearchMemoryPort {
  search(
    query: { agentId: string; text: string; limit: number; tier?: string },
    options: { signal: AbortSignal },
  ): Promise<MemoryHit[]>;
}

const SearchMemoryInput = z.object({
  query: z.string().min(1).max(2_000).describe('What to look for, in plain words'),
  limit: z.number().int().min(1).max(50).default(5).describe('How many results at most'),
  tier: z.enum(['episodic', 'semantic']).optional().describe('Only this memory tier'),
});

/** `search_memory`: the agent searches its own memory (wired by @agentrix/memory). */
export function createSearchMemorySkill(
  port: SearchMemoryPort,
): Skill<z.output<typeof SearchMemoryInput>, MemoryHit[]> {
  return defineSkill({
    name: 'search_memory',
    description: 'Search your long-term memory (past conversations and stable facts) for what is relevant to a query.',
    input: SearchMemoryInput,
    costTier: 'low',
    canParallel: true,
    tags: ['builtin', 'memory'],
    execute: ({ query, limit, tier }, context) =>
      port.search(
        { agentId: context.agentId, text: query, limit, ...(tier !== undefined ? { tier } : {}) },
        { signal: context.signal },
      ),
  });
}

export interface SpawnAgentPort {
  /** Creates and starts a child of `parentId`; resolves with its id. */
  spawn(
    request: { parentId: string; name?: string; role?: string; instructions: string; tools: string[]; task?: string },
    options: { signal: AbortSignal },
  ): Promise<{ id: string }>;
}

const SpawnAgentInput = z.object({
  name: z.string().min(1).max(100).optional().describe('A short readable name'),
  role: z.string().max(200).optional().describe('worker, researcher, ...'),
  instructions: z.string().min(1).max(20_000).describe('The system prompt of the child'),
  tools: z.array(z.string().min(1)).max(64).default([]).describe('Tools the child may use (a subset of yours)'),
  task: z.string().max(20_000).optional().describe('A first message for the child; its reply comes back to you'),
});

/**
 * `spawn_agent`: the agent creates a child agent (wired by @agentrix/runtime's manager, which
 * must check that `tools` is a subset of the parent's). Keyed on the tool call id, so a replayed
 * turn does not spawn twice.
 */
export function createSpawnAgentSkill(port: SpawnAgentPort): Skill<z.output<typeof SpawnAgentInput>, { id: string }> {
  return defineSkill({
    name: 'spawn_agent',
    description: 'Create a child agent with its own instructions and tools, optionally giving it a first task.',
    input: SpawnAgentInput,
    costTier: 'high',
    idempotencyKey: (_input, key) => `${key.agentId}:${key.turnId}:${key.toolCallId}`,
    tags: ['builtin', 'agents'],
    execute: (input, context) =>
      port.spawn(
        {
          parentId: context.agentId,
          instructions: input.instructions,
          tools: input.tools,
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.role !== undefined ? { role: input.role } : {}),
          ...(input.task !== undefined ? { task: input.task } : {}),
        },
        { signal: context.signal },
      ),
  });
}

export interface ScheduleJobPort {
  schedule(
    job: { agentId: string; content: string; runAt?: number; cron?: string; idempotencyKey: string },
    options: { signal: AbortSignal },
  ): Promise<{ id: string; runAt: number }>;
}

const ScheduleJobInput = z
  .object({
    content: z.string().min(1).max(20_000).describe('The message you will receive when the job runs'),
    delaySeconds: z.number().int().min(1).max(31_536_000).optional().describe('Run once, this many seconds from now'),
    cron: z.string().min(9).max(100).optional().describe('Or run repeatedly on this cron schedule (5 fields)'),
  })
  .refine((input) => (input.delaySeconds === undefined) !== (input.cron === undefined), {
    message: 'Give exactly one of delaySeconds or cron',
  });

/** `schedule_job`: the agent schedules a message to itself (wired by @agentrix/scheduler). */
export function createScheduleJobSkill(
  port: ScheduleJobPort,
  options: { now?: () => number } = {},
): Skill<z.output<typeof ScheduleJobInput>, { id: string; runAt: number }> {
  const now = options.now ?? Date.now;
  return defineSkill({
    name: 'schedule_job',
    description: 'Schedule a message to yourself: once after a delay, or repeatedly on a cron schedule.',
    input: ScheduleJobInput,
    costTier: 'low',
    idempotencyKey: (_input, key) => `${key.agentId}:${key.turnId}:${key.toolCallId}`,
    tags: ['builtin', 'scheduler'],
    execute: ({ content, delaySeconds, cron }, context) =>
      port.schedule(
        {
          agentId: context.agentId,
          content,
          idempotencyKey: `${context.agentId}:${context.turnId}:${context.toolCallId}`,
          ...(delaySeconds !== undefined ? { runAt: now() + delaySeconds * 1_000 } : {}),
          ...(cron !== undefined ? { cron } : {}),
        },
        { signal: context.signal },
      ),
  });
}
