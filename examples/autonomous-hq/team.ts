import type { ChatModel } from '@agentrix/core';
import type { GatewayOptions } from '@agentrix/gateway';
import type { Agentrix } from '@agentrix/runtime';
import { defineSkill } from '@agentrix/skills';
import { MockLLM, type MockRequest, type MockStep } from '@agentrix/testing';
import { z } from 'zod';

/**
 * The HQ's team, shared by this example and examples/hq-console: an architect that plans, two
 * workers, a release manager whose `publish_release` waits for a human, their daily budgets in
 * the gateway, and a scripted mock model that plays all of them (no API key needed).
 */

/** A price table for the mock models (USD per 1M tokens), like a real provider's. */
export const MOCK_MODELS = {
  'mock-large': { inputPerMillion: 2.5, outputPerMillion: 10, contextWindow: 32_000, maxOutputTokens: 2_000 },
  'mock-small': { inputPerMillion: 0.15, outputPerMillion: 0.6, contextWindow: 32_000, maxOutputTokens: 1_000 },
};

/** The hard daily caps. An agent's own cap (scope `{ agentId }`) is what `hq.setAgentBudget` changes. */
export const TEAM_BUDGETS: NonNullable<GatewayOptions['budgets']> = [
  { id: 'team', scope: 'global', period: 'day', usd: 20 }, // everyone together
  { id: 'architect', scope: { agentId: 'architect' }, period: 'day', usd: 8 },
  { id: 'worker-1', scope: { agentId: 'worker-1' }, period: 'day', usd: 2 },
  { id: 'worker-2', scope: { agentId: 'worker-2' }, period: 'day', usd: 2 },
  { id: 'per-agent', scope: { agentId: '*' }, period: 'day', usd: 5 }, // any agent, each
];

/** The gateway's options for the team: the given provider and tiers, else the mock and its prices. */
export function teamGateway(options: { provider?: ChatModel; tiers?: Record<string, string> }): GatewayOptions {
  return {
    provider: options.provider ?? mockProvider(),
    ...(options.provider ? {} : { models: MOCK_MODELS }),
    tiers: options.tiers ?? { large: 'mock-large', small: 'mock-small' },
    budgets: TEAM_BUDGETS,
  };
}

/** Publishing is a major decision: it waits for a human at the approval gate of the one tool pipeline. */
export const publishRelease = defineSkill({
  name: 'publish_release',
  description: 'Publish a release to customers. A major decision: a human must approve it.',
  input: z.object({ version: z.string().min(1), notes: z.string().default('') }),
  requiresApproval: true,
  execute: ({ version }) => ({ published: version }),
});

/** Creates the architect (role `planner`), `worker-1`, `worker-2` and the `release-manager`. */
export async function createTeam(agentrix: Pick<Agentrix, 'create'>): Promise<void> {
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
