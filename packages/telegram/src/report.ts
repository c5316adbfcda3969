/**
 * The part of a report the channel formats: the HQ's `HqReport` (from `@agentrix/hq`)
 * fits it as it is.
 */
export interface DailyReport {
  generatedAt: number;
  paused: boolean;
  goals: readonly {
    text: string;
    status: string;
    tasks: { done: number; failed: number; inProgress: number };
    error?: string | undefined;
  }[];
  tasks: { done: number; failed: number; inProgress: number };
  spend?: { day: string; totalUsd: number };
}

/** A report as Markdown for a chat: a title, the totals, one line per goal, the day's spend. */
export function formatReport(report: DailyReport, title = 'Daily report'): string {
  const day = new Date(report.generatedAt).toISOString().slice(0, 10);
  const { done, failed, inProgress } = report.tasks;
  const lines = [
    `**${title} (${day})**${report.paused ? ' (paused)' : ''}`,
    `Tasks: ${done} done, ${failed} failed, ${inProgress} in progress.`,
  ];
  for (const goal of report.goals) {
    const failure = goal.error !== undefined ? ` (${goal.error})` : '';
    lines.push(`- ${goal.text}: ${goal.status}, ${goal.tasks.done} done, ${goal.tasks.failed} failed${failure}`);
  }
  if (report.spend !== undefined) lines.push(`Spend on ${report.spend.day}: $${report.spend.totalUsd.toFixed(2)}`);
  return lines.join('\n');
}
