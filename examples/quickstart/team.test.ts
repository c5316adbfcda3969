import { describe, expect, it } from 'vitest';
import { startTeam } from './team.js';

describe('quickstart team', () => {
  it('plans, works, reviews and reports', async () => {
    const lines: string[] = [];
    const team = await startTeam({ log: (line) => lines.push(line) });
    try {
      await team.agentrix.send({ to: 'planner', content: 'ship it' });
      const report = await team.report;
      await team.agentrix.waitForIdle();
      expect(report).toMatch(/Both tasks approved/);
      expect(report).toMatch(/worker-1: Risks/);
      expect(report).toMatch(/worker-2: Mitigations/);
      expect(team.agentrix.get('critic').turns).toBe(2);
      expect(team.agentrix.get('worker-1').turns).toBe(1);
      expect(lines.some((line) => line.includes('planner -> worker-1'))).toBe(true);
      expect(team.agentrix.list().every((agent) => agent.state === 'idle')).toBe(true);
    } finally {
      await team.close();
    }
  });
});
