import { describe, expect, it } from 'vitest';
import { formatStats, runJobDispatch } from './dispatch.js';

describe('job-dispatch example', () => {
  it('fans each job out to the top 3, the fastest success wins, the rest are cancelled, stats updated', async () => {
    const lines: string[] = [];
    const { outcomes, profiles } = await runJobDispatch({ jobs: 2, log: (line) => lines.push(line) });
    expect(outcomes).toHaveLength(2);
    for (const outcome of outcomes) {
      expect(outcome.job).toMatchObject({ status: 'completed', winner: 'quick' });
      expect(String(outcome.job.result)).toContain('-> 42');
      const statuses = Object.fromEntries(outcome.distributions.map((row) => [row.agentId, row.status]));
      expect(statuses).toEqual({ expert: 'cancelled', quick: 'completed', flaky: 'failed' });
    }
    const byId = Object.fromEntries(profiles.map((profile) => [profile.agentId, profile]));
    expect(byId.quick).toMatchObject({ successes: 2, failures: 0 });
    expect(byId.flaky).toMatchObject({ successes: 0, failures: 2 });
    expect(byId.expert).toMatchObject({ successes: 0, failures: 0, reputation: 0.9 });
    expect(byId.intern).toMatchObject({ successes: 0, failures: 0 });
    expect(byId.quick!.reputation).toBeGreaterThan(0.7);
    expect(byId.flaky!.reputation).toBeLessThan(0.4);
    expect(lines[0]).toMatch(/^invoice-1: completed, winner quick/);
    expect(formatStats(profiles).split('\n')[1]).toMatch(/^expert/);
  }, 30_000);
});
