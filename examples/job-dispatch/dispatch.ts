import { AgentrixError } from '@agentrix/core';
import { createAgentrix } from '@agentrix/runtime';
import { type AgentProfile, agentManagerRunner, Dispatcher, type DispatchOutcome } from '@agentrix/scheduler';
import { openDatabase } from '@agentrix/store';
import { MockLLM, type MockRequest } from '@agentrix/testing';

/**
 * Reputation-ranked job dispatch: four agents have profiles, three match the jobs; each job fans
 * out to the top 3, the first good answer wins, the slower runs are cancelled through their
 * AbortSignal, and every agent's stats (successes, failures, time, reputation) are updated.
 */
export interface DispatchRunOptions {
  /** How many jobs to dispatch. Default 3. */
  jobs?: number;
  log?: (line: string) => void;
}

export interface DispatchRunResult {
  outcomes: DispatchOutcome[];
  profiles: AgentProfile[];
}

const lastUser = (request: MockRequest) =>
  String([...request.messages].reverse().find((message) => message.role === 'user')?.content ?? '');

export async function runJobDispatch(options: DispatchRunOptions = {}): Promise<DispatchRunResult> {
  const log = options.log ?? (() => {});
  const database = await openDatabase('memory://', { vector: 'off' });
  const agentrix = await createAgentrix({
    models: {
      // The expert is right but slow; the quick one is fast; the flaky one answers with an error.
      // The gaps are wide so the order holds on a loaded machine (flaky fails before quick wins).
      expert: new MockLLM({ fallback: (request) => ({ text: `expert: ${lastUser(request)} -> 42`, delayMs: 600 }) }),
      quick: new MockLLM({ fallback: (request) => ({ text: `quick: ${lastUser(request)} -> 42`, delayMs: 150 }) }),
      flaky: new MockLLM({ fallback: { text: 'ERROR: I cannot read that invoice', delayMs: 10 } }),
      intern: new MockLLM({ fallback: { text: 'intern answer' } }),
    },
  });
  for (const id of ['expert', 'quick', 'flaky', 'intern']) await agentrix.create({ id, model: id });

  const ask = agentManagerRunner(agentrix);
  const dispatcher = new Dispatcher({
    database,
    topN: 3,
    timeoutMs: 5_000,
    // An answer starting with ERROR is a failed run: the agent's reputation goes down.
    runAgent: async (agentId, job, signal) => {
      const answer = String(await ask(agentId, job, signal));
      if (answer.startsWith('ERROR')) throw new AgentrixError('TOOL_FAILED', answer);
      return answer;
    },
  });
  await dispatcher.upsertProfile({
    agentId: 'expert',
    tags: ['invoices'],
    categories: ['finance'],
    skillLevel: 5,
    reputation: 0.9,
  });
  await dispatcher.upsertProfile({
    agentId: 'quick',
    tags: ['invoices'],
    categories: ['finance'],
    skillLevel: 3,
    reputation: 0.7,
  });
  await dispatcher.upsertProfile({
    agentId: 'flaky',
    tags: ['invoices'],
    categories: ['finance'],
    skillLevel: 3,
    reputation: 0.4,
  });
  await dispatcher.upsertProfile({
    agentId: 'intern',
    tags: ['invoices'],
    categories: ['finance'],
    skillLevel: 1,
    reputation: 0.5,
  });

  const outcomes: DispatchOutcome[] = [];
  try {
    for (let index = 1; index <= (options.jobs ?? 3); index++) {
      const id = `invoice-${index}`;
      await dispatcher.submit({
        id,
        payload: `Total of invoice #${index}`,
        conditions: { tags: ['invoices'], category: 'finance', minSkillLevel: 2 }, // the intern does not qualify
      });
      const outcome = await dispatcher.dispatch(id);
      outcomes.push(outcome);
      const rows = [...outcome.distributions]
        .sort((a, b) => a.rank - b.rank)
        .map((row) => `${row.agentId}#${row.rank} ${row.status}`)
        .join(', ');
      log(`${id}: ${outcome.job.status}, winner ${outcome.job.winner} (${rows})`);
    }
    const profiles = await dispatcher.profiles();
    return { outcomes, profiles };
  } finally {
    await agentrix.close();
    await database.close();
  }
}

/** The agents' stats as a table. */
export function formatStats(profiles: readonly AgentProfile[]): string {
  const header = 'agent    reputation  successes  failures  success rate  average ms';
  const rows = [...profiles]
    .sort((a, b) => b.reputation - a.reputation)
    .map(
      (profile) =>
        `${profile.agentId.padEnd(8)} ${profile.reputation.toFixed(3).padStart(10)}  ${String(profile.successes).padStart(9)}  ${String(profile.failures).padStart(8)}  ${profile.successRate.toFixed(2).padStart(12)}  ${(profile.averageMs === undefined ? '-' : Math.round(profile.averageMs).toString()).padStart(10)}`,
    );
  return [header, ...rows].join('\n');
}
