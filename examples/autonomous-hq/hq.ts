import { AgentrixEvents, type ChatModel } from '@agentrix/core';
import { createGateway } from '@agentrix/gateway';
import { createHq, type HqReport } from '@agentrix/hq';
import { createAgentrix } from '@agentrix/runtime';
import { JobQueue } from '@agentrix/scheduler';
import { openDatabase } from '@agentrix/store';
import { createTeam, publishRelease, teamGateway } from './team.js';

/**
 * An autonomous HQ in one process: a goal goes to the architect, whose plan becomes tasks on a
 * durable queue (PGlite in memory); workers do them under daily budgets enforced by the gateway;
 * a release needs a human's approval (a `requiresApproval` skill); a cron tick sends the report.
 * The team (agents, budgets, mock model) is in team.ts, shared with examples/hq-console.
 */
export interface HqRunOptions {
  /** The provider behind the gateway. Default: the scripted mock of team.ts (no API key). */
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

export async function runAutonomousHq(options: HqRunOptions = {}): Promise<HqRunResult> {
  const log = options.log ?? (() => {});
  const database = await openDatabase('memory://', { vector: 'off' });
  // One event stream: the gateway's, the skills', the job queue's and the agents' events all
  // arrive through `agentrix.on(...)`.
  const events = new AgentrixEvents();
  const gateway = createGateway({ events, ...teamGateway(options) });

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

  await createTeam(agentrix);

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
    await hq.setAgentBudget('worker-2', 1); // adjust worker-2's own gateway budget at run time
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
