import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AgentrixError, AgentrixEvents, type Logger } from '@agentrix/core';
import { FakeClock } from '@agentrix/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Supervisor } from './supervisor.js';
import type { SupervisorEventMap, SupervisorEventName } from './supervisor-events.js';
import type { SupervisorOptions, WorkerDefinition } from './supervisor-options.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

function worker(
  script: 'crash' | 'exit-zero' | 'run' | 'hang',
  extra: Partial<WorkerDefinition> = {},
): WorkerDefinition {
  return { name: script, command: process.execPath, args: [`${fixtures}${script}.mjs`], ...extra };
}

/** Every event in order, as `[name, payload]`. */
function record(supervisor: Supervisor): Array<[SupervisorEventName, unknown]> {
  const seen: Array<[SupervisorEventName, unknown]> = [];
  const names: SupervisorEventName[] = [
    'worker.started',
    'worker.exited',
    'worker.restarting',
    'worker.crash-loop',
    'worker.stopped',
  ];
  for (const name of names) supervisor.events.on(name, (event) => seen.push([name, event]));
  return seen;
}

function next<K extends SupervisorEventName>(supervisor: Supervisor, name: K): Promise<SupervisorEventMap[K]> {
  return new Promise((resolve) => supervisor.events.once(name, resolve as never));
}

/** A logger that keeps what workers print (output: 'logger'). */
function outputLogger(): Logger & { text(): string } {
  let text = '';
  const keep = (fields: Record<string, unknown>) => {
    if (typeof fields.text === 'string') text += fields.text;
  };
  return { debug: keep, info: keep, warn: keep, error: () => {}, text: () => text };
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const open: Supervisor[] = [];
function supervise(options: SupervisorOptions): Supervisor {
  const supervisor = new Supervisor(options);
  open.push(supervisor);
  return supervisor;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((supervisor) => supervisor.close()));
});

afterAll(() => {
  const processes = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  expect(processes.split('\n').filter((line) => line.includes(fixtures))).toEqual([]);
});

describe('Supervisor options', () => {
  it.each([
    ['no workers', { workers: [] }, /workers: give at least one worker/],
    ['a duplicate name', { workers: [worker('run'), worker('run')] }, /workers\.1\.name: duplicate worker name "run"/],
    ['an empty command', { workers: [worker('run', { command: '' })] }, /workers\.0\.command/],
    [
      'a cap under the initial delay',
      { workers: [worker('run')], backoff: { initialDelayMs: 100, maxDelayMs: 10 } },
      /backoff\.maxDelayMs: maxDelayMs must be >= initialDelayMs/,
    ],
    ['zero crashes for a loop', { workers: [worker('run')], crashLoop: { maxCrashes: 0 } }, /crashLoop\.maxCrashes/],
    ['an IPC stdio option', { workers: [worker('run', { stdio: ['pipe', 'pipe', 'pipe', 'ipc'] } as never)] }, /stdio/],
    [
      'a rollback that is no function',
      { workers: [worker('run')], rollback: 'undo' as never },
      /rollback: expected a function/,
    ],
    [
      'events that are no AgentrixEvents',
      { workers: [worker('run')], events: {} as never },
      /events: expected an AgentrixEvents/,
    ],
  ])('rejects %s with INVALID_ARGUMENT', (_label, options, message) => {
    let thrown: unknown;
    try {
      new Supervisor(options as SupervisorOptions);
    } catch (error) {
      thrown = error;
    }
    expect(AgentrixError.isInstance(thrown)).toBe(true);
    expect((thrown as AgentrixError).code).toBe('INVALID_ARGUMENT');
    expect((thrown as AgentrixError).message).toMatch(message);
  });

  it('rejects unknown worker names in start, stop and status', async () => {
    const supervisor = supervise({ workers: [worker('run')] });
    await expect(supervisor.start('nope')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(supervisor.stop('nope')).rejects.toThrow(/No worker named "nope"; this supervisor runs "run"/);
    expect(() => supervisor.status('nope')).toThrow(AgentrixError);
  });
});

describe('Supervisor', () => {
  it('lets a worker that exits 0 stay down, and gives it no IPC channel', async () => {
    const supervisor = supervise({ workers: [worker('exit-zero')] });
    const events = record(supervisor);
    const stopped = next(supervisor, 'worker.stopped');
    await supervisor.start();
    expect(await stopped).toMatchObject({ worker: 'exit-zero', reason: 'exited', killed: false });
    expect(events.map(([name]) => name)).toEqual(['worker.started', 'worker.exited', 'worker.stopped']);
    // exit code 7 would mean the worker saw process.send
    expect(events[1]?.[1]).toMatchObject({ code: 0, signal: null, crashed: false });
    expect(supervisor.status('exit-zero')).toMatchObject({ state: 'stopped', starts: 1, crashes: 0, pid: undefined });
  });

  it('restarts a worker that exits 0 under restart: always, without counting a crash', async () => {
    const supervisor = supervise({
      workers: [worker('exit-zero', { restart: 'always' })],
      backoff: { initialDelayMs: 5 },
    });
    const events = record(supervisor);
    await supervisor.start();
    await until(() => events.filter(([name]) => name === 'worker.started').length >= 3);
    await supervisor.close();
    expect(events.find(([name]) => name === 'worker.restarting')?.[1]).toMatchObject({
      consecutiveCrashes: 0,
      delayMs: 5,
    });
    expect(supervisor.status('exit-zero').crashes).toBe(0);
  });

  it('restarts a crashing worker with growing backoff, then stops at the crash loop and calls the rollback hook', async () => {
    const rollbacks: unknown[] = [];
    const supervisor = supervise({
      workers: [worker('crash', { env: { CRASH_CODE: '3' } })],
      backoff: { initialDelayMs: 10, factor: 2, maxDelayMs: 30 },
      crashLoop: { maxCrashes: 4, windowMs: 60_000 },
      rollback: (event) => {
        rollbacks.push(event);
      },
    });
    const events = record(supervisor);
    const loop = next(supervisor, 'worker.crash-loop');
    await supervisor.start();
    const event = await loop;
    expect(event).toMatchObject({ worker: 'crash', crashes: 4, windowMs: 60_000, lastExit: { code: 3, signal: null } });
    await until(() => rollbacks.length === 1);
    expect(rollbacks[0]).toEqual(event);
    const restarting = events.filter(([name]) => name === 'worker.restarting').map(([, payload]) => payload);
    expect(restarting).toMatchObject([
      { attempt: 2, consecutiveCrashes: 1, delayMs: 10 },
      { attempt: 3, consecutiveCrashes: 2, delayMs: 20 },
      { attempt: 4, consecutiveCrashes: 3, delayMs: 30 },
    ]);
    expect(events.map(([name]) => name).slice(-2)).toEqual(['worker.exited', 'worker.crash-loop']);
    expect(supervisor.status('crash')).toMatchObject({ state: 'failed', starts: 4, crashes: 4, pid: undefined });
    // start() revives a failed worker with a clean history
    const started = next(supervisor, 'worker.started');
    await supervisor.start('crash');
    expect(await started).toMatchObject({ attempt: 5 });
  });

  it('starts again when the rollback hook answers restart', async () => {
    let rollbacks = 0;
    const supervisor = supervise({
      workers: [worker('crash')],
      backoff: { initialDelayMs: 1 },
      crashLoop: { maxCrashes: 2 },
      rollback: () => (++rollbacks === 1 ? 'restart' : undefined),
    });
    const events = record(supervisor);
    await supervisor.start();
    await until(() => rollbacks === 2);
    expect(events.filter(([name]) => name === 'worker.crash-loop')).toHaveLength(2);
    expect(supervisor.status('crash')).toMatchObject({ state: 'failed', starts: 4 });
  });

  it('treats a command that cannot start as a crash', async () => {
    const supervisor = supervise({
      workers: [{ name: 'missing', command: `${fixtures}does-not-exist` }],
      backoff: { initialDelayMs: 1 },
      crashLoop: { maxCrashes: 2 },
    });
    const events = record(supervisor);
    const loop = next(supervisor, 'worker.crash-loop');
    await supervisor.start();
    await loop;
    expect(events.find(([name]) => name === 'worker.exited')?.[1]).toMatchObject({
      crashed: true,
      pid: undefined,
      error: { message: expect.stringContaining('ENOENT') },
    });
    expect(events.some(([name]) => name === 'worker.started')).toBe(false);
  });

  it('waits for the injected clock before restarting, and resets the backoff after a long run', async () => {
    const clock = new FakeClock(1_000);
    const logger = outputLogger();
    const supervisor = supervise({
      workers: [worker('run', { output: 'logger' })],
      clock,
      logger,
      backoff: { initialDelayMs: 100, factor: 3, maxDelayMs: 10_000, resetAfterMs: 5_000 },
    });
    const starts: number[] = [];
    const delays: number[] = [];
    supervisor.events.on('worker.started', (event) => starts.push(event.pid));
    supervisor.events.on('worker.restarting', (event) => delays.push(event.delayMs));

    const crash = async () => {
      await until(() => logger.text().split('READY').length - 1 === starts.length);
      const restarting = next(supervisor, 'worker.restarting');
      process.kill(starts.at(-1) as number, 'SIGKILL');
      await restarting;
    };
    await supervisor.start();
    await crash();
    await clock.advance(99);
    expect(starts).toHaveLength(1); // still waiting for the clock
    await clock.advance(1);
    await until(() => starts.length === 2);
    await crash();
    expect(delays).toEqual([100, 300]);
    await clock.advance(300);
    await until(() => starts.length === 3);
    await clock.advance(5_000); // a long healthy run
    await crash();
    expect(delays).toEqual([100, 300, 100]);
    expect(supervisor.status('run')).toMatchObject({ state: 'backoff', crashes: 3, consecutiveCrashes: 1 });
    expect(supervisor.status('run').lastExit).toEqual({ code: null, signal: 'SIGKILL' });
    // close() cancels the pending restart
    await supervisor.close();
    expect(supervisor.status('run').state).toBe('stopped');
    expect(clock.pendingTimers).toBe(0);
    expect(starts).toHaveLength(3);
  });

  it('counts crashes inside the window only', async () => {
    const clock = new FakeClock(0);
    const supervisor = supervise({
      workers: [worker('crash')],
      clock,
      backoff: { initialDelayMs: 0 },
      crashLoop: { maxCrashes: 3, windowMs: 1_000 },
    });
    const loops: unknown[] = [];
    supervisor.events.on('worker.crash-loop', (event) => loops.push(event));
    const crashes = () => supervisor.status('crash').crashes;
    await supervisor.start();
    await until(() => crashes() === 1);
    await clock.advance(600);
    await until(() => crashes() === 2);
    await clock.advance(600); // the first crash is now out of the window
    await until(() => crashes() === 3);
    expect(supervisor.status('crash').state).toBe('backoff');
    await clock.advance(0);
    await until(() => crashes() === 4);
    expect(loops).toHaveLength(1);
    expect(supervisor.status('crash').state).toBe('failed');
  });

  it('stops a worker gracefully with SIGTERM and does not restart it', async () => {
    const logger = outputLogger();
    const supervisor = supervise({ workers: [worker('run', { output: 'logger' })], logger, gracePeriodMs: 5_000 });
    const events = record(supervisor);
    await supervisor.start();
    await until(() => logger.text().includes('READY'));
    await supervisor.stop('run');
    expect(events.map(([name]) => name)).toEqual(['worker.started', 'worker.exited', 'worker.stopped']);
    expect(events[1]?.[1]).toMatchObject({ code: 0, signal: null, crashed: false });
    expect(events[2]?.[1]).toMatchObject({ reason: 'requested', killed: false });
    expect(supervisor.status('run').state).toBe('stopped');
  });

  it('kills a worker that ignores SIGTERM after the grace period', async () => {
    const logger = outputLogger();
    const supervisor = supervise({ workers: [worker('hang', { output: 'logger' })], logger, gracePeriodMs: 200 });
    const events = record(supervisor);
    await supervisor.start();
    await until(() => logger.text().includes('READY'));
    const started = Date.now();
    await supervisor.stop('hang');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(events[1]?.[1]).toMatchObject({ code: null, signal: 'SIGKILL', crashed: false });
    expect(events[2]?.[1]).toMatchObject({ reason: 'requested', killed: true });
  });

  it('closes once for all workers, supports await using, and refuses to start after close', async () => {
    const logger = outputLogger();
    let pids: number[] = [];
    {
      await using supervisor = new Supervisor({
        workers: [worker('run', { output: 'logger' }), worker('hang', { output: 'logger' })],
        logger,
        gracePeriodMs: 100,
      });
      await supervisor.start();
      pids = supervisor.status().map((status) => status.pid as number);
      await until(() => logger.text().split('READY').length === 3);
      const first = supervisor.close();
      expect(supervisor.close()).toBe(first);
      await first;
      expect(supervisor.status().map((status) => status.state)).toEqual(['stopped', 'stopped']);
      await expect(supervisor.start()).rejects.toMatchObject({ code: 'CLOSED' });
    }
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });

  it('keeps a throwing listener from breaking supervision', async () => {
    const supervisor = supervise({ workers: [worker('exit-zero')] });
    supervisor.events.on('worker.started', () => {
      throw new Error('listener bug');
    });
    const stopped = next(supervisor, 'worker.stopped');
    await supervisor.start();
    expect(await stopped).toMatchObject({ reason: 'exited' });
  });

  it('emits on the stream it is given', async () => {
    const events = new AgentrixEvents();
    const names: string[] = [];
    for (const name of ['worker.started', 'worker.exited', 'worker.stopped'] as const) {
      events.on(name, () => names.push(name));
    }
    const supervisor = supervise({ workers: [worker('exit-zero')], events });
    expect(supervisor.events).toBe(events);
    const stopped = next(supervisor, 'worker.stopped');
    await supervisor.start();
    await stopped;
    expect(names).toEqual(['worker.started', 'worker.exited', 'worker.stopped']);
  });
});
