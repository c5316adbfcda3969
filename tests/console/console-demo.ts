import { createRequire } from 'node:module';
import { InMemoryBus } from '@agentrix/bus';
import { AgentrixEvents } from '@agentrix/core';
import { createTeam, publishRelease } from '@agentrix/example-autonomous-hq/team';
import { createGateway } from '@agentrix/gateway';
import { createHq } from '@agentrix/hq';
import { createAgentrix } from '@agentrix/runtime';
import { JobQueue } from '@agentrix/scheduler';
import { createServer } from '@agentrix/server';
import { openDatabase } from '@agentrix/store';
import { MockLLM, type MockRequest, type MockStep } from '@agentrix/testing';
import { until } from './console-fixture.js';

const EVERYTHING = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');

/** Prices of the mock models (USD per 1M tokens), high so that a few short mock turns show on the spend page. */
const MODELS = {
  'mock-large': { inputPerMillion: 30, outputPerMillion: 120, contextWindow: 32_000, maxOutputTokens: 2_000 },
  'mock-small': { inputPerMillion: 10, outputPerMillion: 40, contextWindow: 32_000, maxOutputTokens: 1_000 },
};

function answer(request: MockRequest): MockStep {
  const system = String(request.messages.find((message) => message.role === 'system')?.content ?? '');
  const last = request.messages.at(-1);
  const user = String([...request.messages].reverse().find((message) => message.role === 'user')?.content ?? '');
  if (system.startsWith('You are the architect')) {
    const tasks = [
      { title: 'Write the changelog', description: 'List what changed since 1.1', role: 'worker' },
      { title: 'Check every link', description: 'Find broken links in the docs', role: 'worker' },
      { title: 'Publish 1.2.0', description: 'Publish the release', role: 'release' },
    ];
    return { text: JSON.stringify({ tasks }) };
  }
  if (last?.role === 'tool') return { text: `Done: ${last.content}` };
  if (system.startsWith('You are the release manager')) {
    return { toolCalls: [{ name: 'publish_release', arguments: { version: '1.2.0', notes: 'docs 1.2' } }] };
  }
  if (user === 'poison') return { error: new Error('upstream model refused this message') };
  if (user.startsWith('What is 19 + 23'))
    return { toolCalls: [{ name: 'everything__get-sum', arguments: { a: 19, b: 23 } }] };
  if (user === 'long task') return { text: 'Finished the long task.', delayMs: 30_000 };
  return { text: `Done: ${user.split('\n')[0]}` };
}

export interface ConsoleDemo {
  url: string;
  /** Starts a turn that stays `running` for a while (for a screenshot of a busy agent). */
  busy(agentId: string): void;
  close(): Promise<void>;
}

/**
 * A small HQ behind the server and console, on the mock model: a gateway with daily budgets, the
 * team of examples/autonomous-hq (an architect, two workers and a release manager whose release
 * waits for approval), an MCP server,
 * a thread with a tool call and a dead letter. Used to take the screenshots of docs/console.md.
 */
export async function startConsoleDemo(consoleDir: string): Promise<ConsoleDemo> {
  const database = await openDatabase('memory://', { vector: 'off' });
  const events = new AgentrixEvents();
  const gateway = createGateway({
    events,
    provider: new MockLLM({ fallback: answer }),
    models: MODELS,
    tiers: { large: 'mock-large', small: 'mock-small' },
    defaultOutputTokens: 200,
    budgets: [
      { id: 'team', scope: 'global', period: 'day', usd: 1 },
      { id: 'architect', scope: { agentId: 'architect' }, period: 'day', usd: 0.05 },
      { id: 'worker-1', scope: { agentId: 'worker-1' }, period: 'day', usd: 0.02 },
      { id: 'worker-2', scope: { agentId: 'worker-2' }, period: 'day', usd: 0.02 },
      { id: 'per-agent', scope: { agentId: '*' }, period: 'day', usd: 0.02 },
    ],
  });
  const bus = new InMemoryBus({ maxDeliveries: 2 });
  const agentrix = await createAgentrix({
    events,
    gateway,
    bus,
    skills: [publishRelease],
    mcp: { servers: [{ name: 'everything', transport: 'stdio', command: process.execPath, args: [EVERYTHING] }] },
  });
  await createTeam(agentrix); // the team of examples/autonomous-hq
  await agentrix.create({ id: 'researcher', role: 'analyst', tier: 'small', tools: ['everything__get-sum'] });
  await agentrix.create({
    id: 'intake',
    role: 'ingress',
    tier: 'small',
    modelRetry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
  });

  const queue = await JobQueue.open({ database, queue: 'hq', events });
  const hq = await createHq({
    agentrix,
    queue,
    planner: 'architect',
    gateway,
    reportCron: false,
    pollIntervalMs: 50,
  });
  await hq.addGoal({ id: 'docs-1.2', text: 'Ship version 1.2 of the documentation site', priority: 5 });
  await until(() => agentrix.pendingApprovals().length === 1, 30_000);
  await hq.tick();
  await agentrix.ask('researcher', 'What is 19 + 23?');
  await agentrix.send({ to: 'intake', content: 'poison' });
  await until(async () => (await bus.deadLetters('intake')).length === 1);

  const server = createServer({ agentrix, hq, console: consoleDir });
  const { url } = await server.listen({ port: 0 });
  return {
    url: url.endsWith('/') ? url : `${url}/`,
    busy: (agentId) => void agentrix.send({ to: agentId, content: 'long task' }),
    async close() {
      await server.close();
      await hq.close();
      await agentrix.close({ timeoutMs: 1_000 });
      await bus.close();
      await database.close();
    },
  };
}
