import { AgentrixEvents, type ChatModel } from '@agentrix/core';
import { createGateway } from '@agentrix/gateway';
import { createAgentrix } from '@agentrix/runtime';
import { createHq, type HqReport, JobQueue } from '@agentrix/scheduler';
import { defineSkill } from '@agentrix/skills';
import { openDatabase } from '@agentrix/store';
import { MockLLM, type MockRequest, type MockStep } from '@agentrix/testing';
import { z } from 'zod';

/**
 * An autonomous HQ in one process: a goal goes to the architect, whose plan becomes tasks on a
 * durable queue (PGlite in memory); workers do them under a daily budget enforced by the gateway;
 * a release needs a human's approval (a `requiresApproval` skill); a cron tick sends the report.
 */
export interface HqRunOptions {
  /** The provider behind the gateway. Default: the scripted mock below (no API key). */
  provider?: ChatModel;
  /** Model tiers of the gateway. Default: the mock's price table. */
  tiers?: Record<string, string>;
  goal?: string;
  /** Cron of the report tick. Default every second, so the demo sees one (`'0 18 * * *'` in real life). */
  reportCron?: string;
  /** The human: decides each approval request. Default: approve. */
  decide?: (request: { skill: string; input: unknown }) => boolean;
  log?: (line: string) => void;
}

export interface HqRunResult {
  report: HqReport;
  /** The report the cron tick made. */
  tickReport: HqReport;
  results: { title: string; agentId: string | undefined; result: string }[];
  approvals: string[];
}

/** A price table for the mock models (USD per 1M tokens), like a real provider's. */
export const MOCK_MODELS = {
  'mock-large': { inputPerMillion: 2.5, outputPerMillion: 10, contextWindow: 32_000, maxOutputTokens: 2_000 },
  'mock-small': { inputPerMillion: 0.15, outputPerMillion: 0.6, contextWindow: 32_000, maxOutputTokens: 1_000 },
};

export async function runAutonomousHq(options: HqRunOptions = {}): Promise<HqRunResult> {
  const log = options.log ?? (() => {});
  const database = await openDatabase('memory://', { vector: 'off' });
  // One event stream: the gateway's, the skills', the job queue's and the agents' events all
  // arrive through `agentrix.on(...)`.
  const events = new AgentrixEvents();
  const gateway = createGateway({
    events,
    provider: options.provider ?? mockProvider(),
    ...(options.provider ? {} : { models: MOCK_MODELS }),
    tiers: options.tiers ?? { large: 'mock-large', small: 'mock-small' },
    budgets: [
      { id: 'team', scope: 'global', period: 'day', usd: 20 }, // the hard daily cap for everyone
      { id: 'architect', scope: { agentId: 'architect' }, period: 'day', usd: 8 },
      { id: 'per-agent', scope: { agentId: '*' }, period: 'day', usd: 5 },
    ],
  });

  // Major decisions: publishing waits for a human at the approval gate of the one tool pipeline.
  const publishRelease = defineSkill({
    name: 'publish_release',
    description: 'Publish a release to customers. A major decision: a human must approve it.',
    input: z.object({ version: z.string().min(1), notes: z.string().default('') }),
    requiresApproval: true,
    execute: ({ version }) => ({ published: version }),
  });
  const agentrix = await createAgentrix({ events, gateway, skills: [publishRelease] });
  const approvals: string[] = [];
  agentrix.on('approval.requested', ({ request }) => {
    const approved = (options.decide ?? (() => true))({ skill: request.skill, input: request.input });
    approvals.push(`${request.skill} ${JSON.stringify(request.input)}: ${approved ? 'approved' : 'rejected'}`);
    log(
      `  ? ${request.agentId} wants ${request.skill} ${JSON.stringify(request.input)} -> ${approved ? 'approved' : 'rejected'} by the owner`,
    );
    if (approved) agentrix.approve(request.id, { by: 'owner' });
    else agentrix.reject(request.id, 'not now', { by: 'owner' });
  });

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
      scope: { tags: ['worker'] },
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

  const queue = await JobQueue.open({ database, queue: 'hq', events });
  let onTick: (report: HqReport) => void = () => {};
  const ticked = new Promise<HqReport>((resolve) => {
    onTick = resolve;
  });
  const hq = await createHq({
    agentrix,
    queue,
    planner: 'architect',
    gateway,
    reportCron: options.reportCron ?? '* * * * * *',
    taskTimeoutMs: 120_000,
    pollIntervalMs: 50,
    agentBudgets: { 'worker-1': 2, 'worker-2': 2 }, // the HQ's own caps, adjustable with hq.setAgentBudget
    onReport: (report) => onTick(report),
    onEvent: (event) => {
      if (event.type === 'goal.planned') log(`  plan: ${event.tasks} tasks for ${event.goalId}`);
      if (event.type === 'task.started' && event.agentId) log(`  -> ${event.agentId}: ${event.taskId}`);
      if (event.type === 'task.done') log(`  ✓ ${event.agentId}: ${event.result}`);
      if (event.type === 'task.failed') log(`  ✗ ${event.taskId}: ${event.error}`);
    },
  });
  try {
    const goal = await hq.addGoal({
      id: 'docs-1.2',
      text: options.goal ?? 'Ship version 1.2 of the documentation site',
      priority: 5,
      deadline: Date.now() + 24 * 3_600_000,
    });
    log(`goal ${goal.id}: ${goal.text}`);
    await hq.waitForGoal(goal.id, { timeoutMs: 300_000 });
    const tickReport = await ticked;
    hq.setAgentBudget('worker-2', 1); // adjust a budget at run time
    const report = await hq.report();
    return {
      report,
      tickReport,
      approvals,
      results: hq.results(goal.id).map(({ title, agentId, result }) => ({ title, agentId, result })),
    };
  } finally {
    await hq.close();
    await agentrix.close();
    await gateway.close();
    await database.close();
  }
}

/** The report as text. */
export function formatReport(report: HqReport): string {
  const lines = [
    `tasks: ${report.tasks.done} done, ${report.tasks.failed} failed, ${report.tasks.inProgress} in progress`,
  ];
  for (const goal of report.goals) lines.push(`goal "${goal.text}" (priority ${goal.priority}): ${goal.status}`);
  if (report.spend) {
    lines.push(`spend on ${report.spend.day}: $${report.spend.totalUsd.toFixed(6)}`);
    for (const [agentId, totals] of Object.entries(report.spend.byAgent)) {
      lines.push(`  ${agentId.padEnd(16)} $${totals.costUsd.toFixed(6)} (${totals.calls} calls)`);
    }
  }
  const team = report.budgets?.find((line) => line.budget === 'team');
  if (team) lines.push(`team budget: $${team.spent.toFixed(6)} of $${team.limit} spent today`);
  return lines.join('\n');
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
