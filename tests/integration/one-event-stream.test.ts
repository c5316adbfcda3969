import { AgentrixError, type AgentrixEventMap, type AgentrixEventName, AgentrixEvents } from '@agentrix/core';
import { createGateway, type GatewayEventMap } from '@agentrix/gateway';
import { createMemory, type MemoryEventMap } from '@agentrix/memory';
import { AgentManager, Supervisor, type SupervisorEventMap } from '@agentrix/runtime';
import { JobQueue, JobWorker, Scheduler, type SchedulerEventMap } from '@agentrix/scheduler';
import { defineSkill, SkillExecutor, SkillRegistry, type SkillsEventMap } from '@agentrix/skills';
import { type Database, openDatabase } from '@agentrix/store';
import { FakeClock, MockLLM } from '@agentrix/testing';
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

// Issue 13, item 2: one typed stream. Every package is given the same AgentrixEvents and its
// events arrive through `manager.on(...)`, typed by the map each package adds to core's.

let database: Database;
beforeAll(async () => {
  database = await openDatabase('memory://', { vector: 'off' });
});
afterAll(() => database.close());
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runtime events and at least one event of each other package. */
const EXPECTED = [
  'agent.created',
  'tool.called',
  'tool.completed',
  'turn.completed',
  'budget.reserved',
  'ledger.recorded',
  'skill.registered',
  'skill.retry',
  'memory.fact-written',
  'memory.retrieved',
  'tick.sent',
  'job.completed',
  'job.dead-lettered',
  'worker.started',
  'worker.exited',
  'worker.stopped',
] as const satisfies readonly AgentrixEventName[];

describe('one event stream', () => {
  it("carries the runtime's, gateway's, skills', memory's, scheduler's and supervisor's events, typed", async () => {
    const events = new AgentrixEvents();
    const seen = new Set<string>();

    const gateway = createGateway({
      provider: new MockLLM({
        fallback: (request) => {
          const last = request.messages.at(-1);
          return last?.role === 'user' && last.content === 'charge it'
            ? { toolCalls: [{ name: 'charge', arguments: { cents: 250 } }] }
            : { text: 'done' };
        },
      }),
      budgets: [{ id: 'team', scope: 'global', period: 'day', usd: 5 }],
      events,
    });
    cleanups.push(() => gateway.close());
    const registry = new SkillRegistry({ events });
    const executor = new SkillExecutor({ registry, events, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    const manager = new AgentManager({ events, model: gateway, toolExecutor: executor, toolSource: registry });
    cleanups.push(() => manager.close());
    for (const name of EXPECTED) manager.on(name, () => seen.add(name));

    // Typed through the manager by the map each package adds.
    const ticks: AgentrixEventMap['tick.sent'][] = [];
    manager.on('tick.sent', (event) => ticks.push(event));
    manager.on('ledger.recorded', (event) => expectTypeOf(event.record.costUsd).toEqualTypeOf<number>());
    manager.on('worker.crash-loop', (event) => expectTypeOf(event.crashes).toEqualTypeOf<number>());
    // @ts-expect-error an event no package declares does not type-check
    manager.on('no.such-event', () => {});
    expectTypeOf<AgentrixEventMap['gateway.retry']>().toEqualTypeOf<GatewayEventMap['gateway.retry']>();
    expectTypeOf<AgentrixEventMap['mcp.connected']>().toEqualTypeOf<SkillsEventMap['mcp.connected']>();
    expectTypeOf<AgentrixEventMap['memory.retrieved']>().toEqualTypeOf<MemoryEventMap['memory.retrieved']>();
    expectTypeOf<AgentrixEventMap['job.retried']>().toEqualTypeOf<SchedulerEventMap['job.retried']>();
    expectTypeOf<AgentrixEventMap['worker.exited']>().toEqualTypeOf<SupervisorEventMap['worker.exited']>();
    // The runtime's model retry kept its name and payload; the gateway's became `gateway.retry`.
    expectTypeOf<AgentrixEventMap['model.retry']>().toHaveProperty('turnId');

    // Skills and gateway: a charge that fails once with a retryable error, in a turn.
    let charges = 0;
    registry.register(
      defineSkill({
        name: 'charge',
        description: 'Charges the card',
        input: z.object({ cents: z.number() }),
        execute: () => {
          charges++;
          if (charges === 1) throw new AgentrixError('RATE_LIMITED', 'card network busy');
          return 'charged';
        },
      }),
    );
    await manager.create({ id: 'till', tools: ['charge'] });
    expect((await manager.ask('till', 'charge it')).content).toBe('done');
    expect(charges).toBe(2);

    // Memory on PGlite.
    const memory = await createMemory({ database, events });
    cleanups.push(() => memory.close());
    await memory.remember({ scope: { userId: 'ada' }, key: 'card', text: 'Ada pays by card' });
    expect((await memory.retrieve({ scope: { userId: 'ada' }, query: 'card' })).facts).toHaveLength(1);

    // Scheduler: a cron tick to the agent, and jobs on a queue.
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const scheduler = new Scheduler({ database, send: manager, clock, events });
    cleanups.push(() => scheduler.close());
    await scheduler.start();
    await scheduler.schedule({ agentId: 'till', cron: '* * * * *' });
    clock.set(Date.UTC(2026, 0, 1, 0, 1));
    await scheduler.runDue();
    expect(ticks).toEqual([{ agentId: 'till', scheduledFor: Date.UTC(2026, 0, 1, 0, 1), firedAt: clock.now() }]);
    const queue = await JobQueue.open({ database, queue: `q-${crypto.randomUUID()}`, events });
    await queue.addMany([{ type: 'greet' }, { type: 'mystery' }]);
    const worker = new JobWorker({ queue, handlers: { greet: { handler: () => 'hi' } } });
    expect(await worker.runOnce()).toBe(2);

    // Supervisor: a worker process that exits at once.
    const supervisor = new Supervisor({
      workers: [{ name: 'once', command: process.execPath, args: ['-e', ''], restart: 'never', output: 'ignore' }],
      events,
    });
    cleanups.push(() => supervisor.close());
    const stopped = new Promise((resolve) => manager.on('worker.stopped', resolve));
    await supervisor.start();
    await stopped;

    await manager.waitForIdle();
    expect([...seen].sort()).toEqual([...EXPECTED].sort());
    for (const part of [gateway, registry, executor, executor.approvals, memory, scheduler, queue, supervisor]) {
      expect(part.events).toBe(manager.events);
    }
  }, 30_000);

  it('gives each part a stream of its own when none is passed', async () => {
    const memory = await createMemory({ database });
    cleanups.push(() => memory.close());
    const written: string[] = [];
    memory.events.on('memory.fact-written', (event) => written.push(event.key));
    await memory.remember({ scope: { userId: 'bob' }, key: 'city', text: 'Bob lives in Oslo' });
    expect(written).toEqual(['city']);
    expect(new SkillRegistry().events).not.toBe(new SkillRegistry().events);
  });
});
