import type { ChatModel } from '@agentrix/core';
import { createTeam, publishRelease, teamGateway } from '@agentrix/example-autonomous-hq/team';
import { createHq, type Hq } from '@agentrix/hq';
import { type Agentrix, createAgentrix } from '@agentrix/runtime';
import { JobQueue } from '@agentrix/scheduler';

/**
 * The autonomous HQ, set up to be driven from outside over HTTP (`@agentrix/server`): the team
 * of examples/autonomous-hq (an architect that plans goals into tasks, two workers and a release
 * manager whose `publish_release` waits for a human's approval, under a $20/day team budget), on
 * a store in memory (PGlite). What `createServer` needs, and what `agentrix dev host.ts` loads.
 */
export interface HqConsole {
  agentrix: Agentrix;
  hq: Hq;
  /** Closes the HQ, then the agentrix (and the store it opened). */
  close(): Promise<void>;
}

export interface HqConsoleOptions {
  /** The provider behind the gateway. Default: the team's scripted mock (no API key). */
  provider?: ChatModel;
  /** Model tiers of the gateway. Default: the mock's price table. */
  tiers?: Record<string, string>;
  /** Cron of the daily report. Default 18:00 UTC. */
  reportCron?: string;
}

export async function createHqConsole(options: HqConsoleOptions = {}): Promise<HqConsole> {
  const agentrix = await createAgentrix({
    store: { url: 'memory://', vector: 'off' },
    gateway: teamGateway(options),
    skills: [publishRelease],
  });
  try {
    await createTeam(agentrix);
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
