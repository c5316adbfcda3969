import { describe, expect, it } from 'vitest';
import { formatReport, runAutonomousHq } from './hq.js';

describe('autonomous-hq example', () => {
  it('plans a goal, runs the tasks (one after a human approval), reports on a cron tick with spend', async () => {
    const lines: string[] = [];
    const result = await runAutonomousHq({ log: (line) => lines.push(line) });
    expect(result.report.tasks).toEqual({ done: 3, failed: 0, inProgress: 0 });
    expect(result.report.goals[0]).toMatchObject({ status: 'done', priority: 5 });
    expect(result.approvals).toEqual(['publish_release {"version":"1.2.0","notes":"docs 1.2"}: approved']);
    expect(result.results.find((task) => task.title === 'Publish 1.2.0')).toMatchObject({
      agentId: 'release-manager',
      result: expect.stringContaining('Published 1.2.0'),
    });
    expect(result.tickReport.goals).toHaveLength(1);
    expect(result.report.spend?.totalUsd).toBeGreaterThan(0);
    expect(Object.keys(result.report.spend?.byAgent ?? {})).toContain('architect');
    expect(result.report.agentBudgets).toEqual({ architect: 8, 'worker-1': 2, 'worker-2': 1 });
    expect(formatReport(result.report)).toContain('team budget:');
  }, 60_000);

  it('a rejected release: the release manager gets the refusal as the tool error, nothing is published', async () => {
    const result = await runAutonomousHq({ decide: () => false });
    expect(result.approvals).toHaveLength(1);
    expect(result.approvals[0]).toMatch(/rejected$/);
    const release = result.results.find((task) => task.agentId === 'release-manager');
    expect(release?.result).toContain('not now');
    expect(release?.result).not.toContain('"published"');
  }, 60_000);
});
