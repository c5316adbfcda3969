import type { ChatModel } from '@agentrix/core';
import { type Agentrix, createAgentrix } from '@agentrix/runtime';
import { createHq, type Hq, JobQueue } from '@agentrix/scheduler';
import { defineSkill } from '@agentrix/skills';
import { MockLLM, type MockRequest, type MockStep } from '@agentrix/testing';
import { z } from 'zod';

/**
 * The autonomous HQ, set up to be driven from outside over HTTP (`@agentrix/server`): an
 * architect that plans goals into tasks, two workers and a release manager whose `publish_release`
 * waits for a human's approval, under a $20/day team budget, on a store in memory (PGlite). What
 * `createServer` needs, and what `agentrix dev host.ts` loads.
 */
export interface HqConsole {
  agentrix: Agentrix;
  hq: Hq;
  /** Closes the HQ, then the agentrix (and the store it opened). */
  close(): Promise<void>;
}

export interface HqConsoleOptions {
  /** The provider behind the gateway. Default: the scripted mock below (no API key). */
  provider?: ChatModel;
  /** Model tiers of the gateway. Default: the mock's price table. */
  tiers?: Record<string, string>;
  /** Cron of the daily report. Default 18:00 UTC. */
  reportCron?: string;
}

/** A price table for the mock models (USD per 1M tokens), like a real provider's. */
export const MOCK_MODELS = {
  'mock-large': { inputPerMillion: 2.5, outputPerMillion: 10, contextWindow: 32_000, maxOutputTokens: 2_000 },
  'mock-small': { inputPerMillion: 0.15, outputPerMillion: 0.6, contextWindow: 32_000, maxOutputTokens: 1_000 },
};

export async function createHqConsole(options: HqConsoleOptions = {}): Promise<HqConsole> {
  const publishRelease = defineSkill({
    name: 'publish_release',
    description: 'Publish a release to customers. A major decision: a human must approve it.',
    input: z.object({ version: z.string().min(1), notes: z.string().default('') }),
    requiresApproval: true,
    execute: ({ version }) => ({ published: version }),
  });
  const agentrix = await createAgentrix({
    store: { url: 'memory://', vector: 'off' },
    gateway: {
      provider: options.provider ?? mockProvider(),
      ...(options.provider ? {} : { models: MOCK_MODELS }),
      tiers: options.tiers ?? { large: 'mock-large', small: 'mock-small' },
      budgets: [
        { id: 'team', scope: 'global', period: 'day', usd: 20 },
        { id: 'architect', scope: { agentId: 'architect' }, period: 'day', usd: 8 },
        { id: 'per-agent', scope: { agentId: '*' }, period: 'day', usd: 5 },
      ],
    },
    skills: [publishRelease],
  });
  try {
    await agentrix.create({
      id: 'architect',
      role: 'planner',
      tier: 'large',
      instructions:
        'You are the architect. Break a goal into 2-4 tasks for the agents listed. Reply with JSON only: ' +
        '{"tasks":[{"title":"...","description":"...","role":"worker" or "release"}]}. Publishing is a "release" task.',
    });
    for (const id of ['worker-1', 'worker-2']) {
      await agentrix.create({
        id,
        role: 'worker',
        tier: 'small',
        instructions: 'You are a worker. Do the task briefly and say what you did.',
      });
    }
    await agentrix.create({
      id: 'release-manager',
      role: 'release',
      tier: 'small',
      tools: ['publish_release'],
      turnTimeoutMs: 600_000, // above the approval gate's timeout (5 min)
      instructions: 'You are the release manager. Publish with the publish_release tool, then say what was published.',
    });
    const queue = await JobQueue.open({ database: agentrix.store!.database, queue: 'hq', events: agentrix.events });
    const hq = await createHq({
      agentrix,
      queue,
      planner: 'architect',
      gateway: agentrix.gateway!,
      reportCron: options.reportCron ?? '0 18 * * *',
      timezone: 'UTC',
      taskTimeoutMs: 600_000,
      pollIntervalMs: 50,
    });
    return {
      agentrix,
      hq,
      async close() {
        await hq.close();
        await agentrix.close();
      },
    };
  } catch (error) {
    await agentrix.close();
    throw error;
  }
}

/** One mock model for every agent: it answers by the agent's instructions. */
function mockProvider(): MockLLM {
  const system = (request: MockRequest) =>
    String(request.messages.find((message) => message.role === 'system')?.content ?? '');
  const lastUser = (request: MockRequest) =>
    String([...request.messages].reverse().find((message) => message.role === 'user')?.content ?? '');
  const answer = (request: MockRequest): MockStep => {
    const instructions = system(request);
    if (instructions.startsWith('You are the architect')) {
      return {
        text: JSON.stringify({
          tasks: [
            { title: 'Write the changelog', description: 'List what changed since 1.1', role: 'worker' },
            { title: 'Check every link', description: 'Find broken links in the docs', role: 'worker' },
            { title: 'Publish 1.2.0', description: 'Publish the release', role: 'release' },
          ],
        }),
      };
    }
    if (instructions.startsWith('You are the release manager')) {
      const tool = request.messages.find((message) => message.role === 'tool');
      if (!tool)
        return { toolCalls: [{ name: 'publish_release', arguments: { version: '1.2.0', notes: 'docs 1.2' } }] };
      return { text: `Published 1.2.0 (${String(tool.content)})` };
    }
    return { text: `Done: ${lastUser(request).split('\n')[0]}` };
  };
  return new MockLLM({ fallback: answer });
}
