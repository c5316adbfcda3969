import { fileURLToPath } from 'node:url';
import type { CrashLoopEvent, WorkerOutput } from '@agentrix/runtime';
import { Supervisor } from '@agentrix/runtime';

const workerScript = fileURLToPath(new URL('./flaky-worker.ts', import.meta.url));
const exampleDirectory = fileURLToPath(new URL('.', import.meta.url));

export interface DemoOptions {
  log: (line: string) => void;
  /** Where the worker's own output goes. Default `inherit`. */
  output?: WorkerOutput;
}

/** The worker runs as its own Node process (TypeScript through tsx here; built JS in production). */
function flakyWorker(crashAfterMs: number, output: WorkerOutput) {
  return {
    name: 'flaky',
    command: process.execPath,
    args: ['--import', 'tsx', workerScript],
    cwd: exampleDirectory,
    env: { FLAKY_CRASH_AFTER_MS: String(crashAfterMs) },
    output,
  };
}

function logEvents(supervisor: Supervisor, log: (line: string) => void): void {
  supervisor.events.on('worker.started', (event) =>
    log(`started ${event.worker} (pid ${event.pid}, attempt ${event.attempt})`),
  );
  supervisor.events.on('worker.exited', (event) =>
    log(`exited ${event.worker}: code ${event.code}, signal ${event.signal}${event.crashed ? ' (crash)' : ''}`),
  );
  supervisor.events.on('worker.restarting', (event) => log(`restarting ${event.worker} in ${event.delayMs} ms`));
  supervisor.events.on('worker.crash-loop', (event) =>
    log(`crash loop: ${event.worker} crashed ${event.crashes} times in ${event.windowMs} ms, not restarting`),
  );
  supervisor.events.on('worker.stopped', (event) => log(`stopped ${event.worker} (${event.reason})`));
}

/**
 * A worker that crashes every `crashAfterMs`: the supervisor restarts it with growing backoff
 * until it has crashed `crashes` times, then stops it gracefully (SIGTERM).
 */
export async function runFlakyWorker(
  options: DemoOptions & { crashes?: number; crashAfterMs?: number },
): Promise<{ starts: number; crashes: number }> {
  const crashes = options.crashes ?? 3;
  await using supervisor = new Supervisor({
    workers: [flakyWorker(options.crashAfterMs ?? 300, options.output ?? 'inherit')],
    backoff: { initialDelayMs: 100, factor: 2, maxDelayMs: 1_000 },
    crashLoop: { maxCrashes: crashes + 2, windowMs: 60_000 },
    gracePeriodMs: 2_000,
  });
  logEvents(supervisor, options.log);
  const enough = new Promise<void>((resolve) => {
    supervisor.events.on('worker.started', (event) => {
      if (event.attempt > crashes) resolve();
    });
  });
  await supervisor.start();
  await enough;
  await supervisor.stop('flaky');
  const status = supervisor.status('flaky');
  return { starts: status.starts, crashes: status.crashes };
}

/**
 * A worker that cannot start: after 3 crashes within 10 s the supervisor stops restarting it,
 * emits `worker.crash-loop` and calls the rollback hook (here it only logs; a host would
 * redeploy the previous version and answer `'restart'`).
 */
export async function runBrokenWorker(options: DemoOptions): Promise<CrashLoopEvent> {
  let rolledBack: (event: CrashLoopEvent) => void = () => {};
  const done = new Promise<CrashLoopEvent>((resolve) => {
    rolledBack = resolve;
  });
  await using supervisor = new Supervisor({
    workers: [flakyWorker(0, options.output ?? 'inherit')],
    backoff: { initialDelayMs: 50 },
    crashLoop: { maxCrashes: 3, windowMs: 10_000 },
    rollback: (event) => {
      options.log(`rollback hook: rolling ${event.worker} back to the previous release`);
      rolledBack(event);
    },
  });
  logEvents(supervisor, options.log);
  await supervisor.start();
  return await done;
}
