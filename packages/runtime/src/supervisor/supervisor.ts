import type { ChildProcess, spawn as spawnFunction } from 'node:child_process';
import {
  AgentrixError,
  AgentrixEvents,
  type Clock,
  type Logger,
  parseWith,
  serializeError,
  silentLogger,
  systemClock,
  type TimerHandle,
} from '@agentrix/core';
import type { CrashLoopEvent, SupervisorEventMap, SupervisorEventName, WorkerExit } from './supervisor-events.js';
import {
  type ResolvedSupervisorOptions,
  type ResolvedWorkerDefinition,
  type SupervisorOptions,
  SupervisorOptionsSchema,
} from './supervisor-options.js';

/**
 * `idle`: not started yet. `starting`: spawned, not confirmed yet. `running`. `backoff`: crashed,
 * waiting to restart. `stopping`: got the stop signal. `stopped`: down for good (stopped, or ended
 * and its restart policy keeps it down). `failed`: crash loop, no more restarts.
 */
export type WorkerState = 'idle' | 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped' | 'failed';

export interface WorkerStatus {
  name: string;
  state: WorkerState;
  /** The current process, while there is one. */
  pid: number | undefined;
  /** How many times it was started. */
  starts: number;
  /** Crashes since the supervisor was created. */
  crashes: number;
  /** Crashes in a row (what the backoff grows with). */
  consecutiveCrashes: number;
  lastExit: WorkerExit | undefined;
}

interface Slot {
  readonly definition: ResolvedWorkerDefinition;
  state: WorkerState;
  child: ChildProcess | undefined;
  /** Resolves when the current process has exited (or failed to spawn). */
  exited: Promise<void>;
  startedAt: number | undefined;
  starts: number;
  crashes: number;
  consecutiveCrashes: number;
  crashTimes: number[];
  lastExit: WorkerExit | undefined;
  stopRequested: boolean;
  killed: boolean;
  backoffTimer: TimerHandle | undefined;
  graceTimer: TimerHandle | undefined;
}

type Spawn = typeof spawnFunction;

/**
 * Runs worker processes and restarts them when they crash, with exponential backoff; N crashes
 * within a window mark the worker failed, emit `worker.crash-loop` and call the rollback hook.
 *
 * A hard boundary by construction: workers are spawned with stdin ignored, stdout / stderr
 * inherited, discarded or forwarded to the logger unparsed, and no IPC channel. The supervisor
 * sees exit codes and signals, never a message or a prompt.
 *
 * ```ts
 * await using supervisor = new Supervisor({ workers: [{ name: 'agents', command: 'node', args: ['worker.js'] }] });
 * supervisor.events.on('worker.crash-loop', (event) => alert(event));
 * await supervisor.start();
 * ```
 */
export class Supervisor {
  /** Where the workers' lifecycle events go: `options.events`, else its own. */
  readonly events: AgentrixEvents;
  readonly #options: ResolvedSupervisorOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #slots = new Map<string, Slot>();
  readonly #abort = new AbortController();
  #spawn: Spawn | undefined;
  #closing: Promise<void> | undefined;
  /** Held while a worker waits in backoff, when no child process keeps the event loop alive. */
  #keepAlive: ReturnType<typeof setInterval> | undefined;

  /** @throws AgentrixError `INVALID_ARGUMENT` when the options are invalid. */
  constructor(options: SupervisorOptions) {
    this.#options = parseWith(SupervisorOptionsSchema, options, 'INVALID_ARGUMENT', 'supervisor options');
    this.#clock = this.#options.clock ?? systemClock;
    this.#logger = this.#options.logger ?? silentLogger;
    this.events = this.#options.events ?? new AgentrixEvents();
    for (const definition of this.#options.workers) {
      this.#slots.set(definition.name, {
        definition,
        state: 'idle',
        child: undefined,
        exited: Promise.resolve(),
        startedAt: undefined,
        starts: 0,
        crashes: 0,
        consecutiveCrashes: 0,
        crashTimes: [],
        lastExit: undefined,
        stopRequested: false,
        killed: false,
        backoffTimer: undefined,
        graceTimer: undefined,
      });
    }
  }

  /**
   * Starts every worker that is not running (or only `name`): idle, stopped and failed ones (a
   * failed worker starts with a clean crash history). Resolves once each one is spawned.
   * @throws AgentrixError `CLOSED` after `close()`, `INVALID_ARGUMENT` for an unknown name.
   */
  async start(name?: string): Promise<void> {
    if (this.#closing)
      throw new AgentrixError('CLOSED', 'The supervisor is closed; create a new one to start workers.');
    const slots = name === undefined ? [...this.#slots.values()] : [this.#slot(name)];
    this.#spawn ??= (await import('node:child_process')).spawn;
    if (this.#closing) throw new AgentrixError('CLOSED', 'The supervisor was closed while starting.');
    const launches: Promise<void>[] = [];
    for (const slot of slots) {
      if (slot.state !== 'idle' && slot.state !== 'stopped' && slot.state !== 'failed') continue;
      slot.crashTimes = [];
      slot.consecutiveCrashes = 0;
      launches.push(this.#launch(slot));
    }
    await Promise.all(launches);
  }

  /**
   * Stops one worker gracefully: the stop signal, then SIGKILL after the grace period. Resolves
   * when it has exited. A worker waiting to restart just stays down.
   */
  async stop(name: string): Promise<void> {
    await this.#stopSlot(this.#slot(name));
  }

  status(): WorkerStatus[];
  status(name: string): WorkerStatus;
  status(name?: string): WorkerStatus | WorkerStatus[] {
    const describe = (slot: Slot): WorkerStatus => ({
      name: slot.definition.name,
      state: slot.state,
      pid: slot.child?.pid,
      starts: slot.starts,
      crashes: slot.crashes,
      consecutiveCrashes: slot.consecutiveCrashes,
      lastExit: slot.lastExit,
    });
    if (name !== undefined) return describe(this.#slot(name));
    return [...this.#slots.values()].map(describe);
  }

  /**
   * Stops every worker (gracefully, in parallel) and cancels pending restarts. Idempotent: a
   * second call returns the same promise. Aborts the signal given to a running rollback hook.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort();
      await Promise.allSettled([...this.#slots.values()].map((slot) => this.#stopSlot(slot)));
      this.#holdEventLoop(false);
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Emits without letting a throwing listener stop the supervision (it is logged instead). */
  #emit<K extends SupervisorEventName>(name: K, event: SupervisorEventMap[K]): void {
    try {
      this.events.emit(name, event as never);
    } catch (error) {
      this.#logger.error({ event: name, error: String(error) }, 'supervisor event listener threw');
    }
  }

  #slot(name: string): Slot {
    const slot = this.#slots.get(name);
    if (!slot) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `No worker named "${name}"; this supervisor runs ${[...this.#slots.keys()].map((key) => `"${key}"`).join(', ')}.`,
      );
    }
    return slot;
  }

  #setState(slot: Slot, state: WorkerState): void {
    slot.state = state;
    this.#holdEventLoop([...this.#slots.values()].some((each) => each.state === 'backoff'));
  }

  #holdEventLoop(hold: boolean): void {
    if (hold && this.#keepAlive === undefined && !this.#closing) {
      this.#keepAlive = setInterval(() => {}, 2 ** 30);
    } else if (!hold && this.#keepAlive !== undefined) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    }
  }

  /** Spawns the worker's process; resolves when it is spawned or failed to. */
  #launch(slot: Slot): Promise<void> {
    const spawn = this.#spawn as Spawn;
    const { definition } = slot;
    slot.starts++;
    slot.stopRequested = false;
    slot.killed = false;
    slot.startedAt = undefined;
    this.#setState(slot, 'starting');
    const output = definition.output === 'inherit' ? 'inherit' : definition.output === 'ignore' ? 'ignore' : 'pipe';
    const env = definition.inheritEnv ? { ...process.env, ...definition.env } : { ...definition.env };
    // Exactly three stdio entries and no 'ipc': there is no channel to carry payloads.
    const child = spawn(definition.command, [...definition.args], {
      stdio: ['ignore', output, output],
      env,
      ...(definition.cwd === undefined ? {} : { cwd: definition.cwd }),
      windowsHide: true,
    });
    slot.child = child;
    if (output === 'pipe') {
      // Forwarded as opaque text: never parsed, never interpreted.
      child.stdout?.on('data', (chunk: Buffer) =>
        this.#logger.info({ worker: definition.name, stream: 'stdout', text: chunk.toString() }, 'worker output'),
      );
      child.stderr?.on('data', (chunk: Buffer) =>
        this.#logger.warn({ worker: definition.name, stream: 'stderr', text: chunk.toString() }, 'worker output'),
      );
    }
    let finished = false;
    slot.exited = new Promise<void>((resolve) => {
      const finish = (exit: WorkerExit, error?: Error) => {
        if (finished) return;
        finished = true;
        resolve();
        this.#onExit(slot, child, exit, error);
      };
      child.once('exit', (code, signal) => finish({ code, signal }));
      child.on('error', (error) => {
        // No pid: the process never started (and 'exit' will not come). Otherwise e.g. a failed kill.
        if (child.pid === undefined) finish({ code: null, signal: null }, error);
        else this.#logger.warn({ worker: definition.name, error: error.message }, 'worker process error');
      });
    });
    return new Promise<void>((resolve) => {
      child.once('spawn', () => {
        slot.startedAt = this.#clock.now();
        if (slot.state === 'starting') this.#setState(slot, 'running');
        this.#logger.info({ worker: definition.name, pid: child.pid, attempt: slot.starts }, 'worker started');
        this.#emit('worker.started', {
          worker: definition.name,
          pid: child.pid as number,
          attempt: slot.starts,
          at: slot.startedAt,
        });
        resolve();
      });
      void slot.exited.then(resolve);
    });
  }

  #onExit(slot: Slot, child: ChildProcess, exit: WorkerExit, error: Error | undefined): void {
    if (slot.child !== child) return;
    slot.child = undefined;
    if (slot.graceTimer !== undefined) {
      this.#clock.clearTimeout(slot.graceTimer);
      slot.graceTimer = undefined;
    }
    const { definition } = slot;
    const now = this.#clock.now();
    const uptimeMs = slot.startedAt === undefined ? 0 : now - slot.startedAt;
    const requested = slot.stopRequested || this.#closing !== undefined;
    const crashed = !requested && (error !== undefined || exit.code !== 0 || exit.signal !== null);
    slot.lastExit = exit;
    this.#logger[crashed ? 'warn' : 'info'](
      {
        worker: definition.name,
        pid: child.pid,
        code: exit.code,
        signal: exit.signal,
        crashed,
        ...(error ? { error: error.message } : {}),
      },
      'worker exited',
    );
    this.#emit('worker.exited', {
      worker: definition.name,
      pid: child.pid,
      code: exit.code,
      signal: exit.signal,
      crashed,
      uptimeMs,
      ...(error ? { error: serializeError(error) } : {}),
      at: now,
    });
    if (requested) {
      this.#markStopped(slot, 'requested');
      return;
    }
    if (!crashed) {
      if (definition.restart === 'always') this.#scheduleRestart(slot, this.#options.backoff.initialDelayMs, 0);
      else this.#markStopped(slot, 'exited');
      return;
    }
    slot.crashes++;
    if (uptimeMs >= this.#options.backoff.resetAfterMs) slot.consecutiveCrashes = 0;
    slot.consecutiveCrashes++;
    const { maxCrashes, windowMs } = this.#options.crashLoop;
    slot.crashTimes = [...slot.crashTimes, now].filter((time) => time > now - windowMs);
    if (definition.restart === 'never') {
      this.#markStopped(slot, 'exited');
      return;
    }
    if (slot.crashTimes.length >= maxCrashes) {
      this.#enterCrashLoop(slot, exit, now);
      return;
    }
    const { initialDelayMs, maxDelayMs, factor } = this.#options.backoff;
    const delayMs = Math.min(maxDelayMs, Math.round(initialDelayMs * factor ** (slot.consecutiveCrashes - 1)));
    this.#scheduleRestart(slot, delayMs, slot.consecutiveCrashes);
  }

  #markStopped(slot: Slot, reason: 'requested' | 'exited'): void {
    this.#setState(slot, 'stopped');
    this.#emit('worker.stopped', {
      worker: slot.definition.name,
      reason,
      killed: slot.killed,
      at: this.#clock.now(),
    });
  }

  #scheduleRestart(slot: Slot, delayMs: number, consecutiveCrashes: number): void {
    this.#setState(slot, 'backoff');
    this.#logger.info({ worker: slot.definition.name, delayMs, attempt: slot.starts + 1 }, 'worker restarting');
    this.#emit('worker.restarting', {
      worker: slot.definition.name,
      attempt: slot.starts + 1,
      consecutiveCrashes,
      delayMs,
      at: this.#clock.now(),
    });
    slot.backoffTimer = this.#clock.setTimeout(() => {
      slot.backoffTimer = undefined;
      if (this.#closing || slot.state !== 'backoff') return;
      void this.#launch(slot);
    }, delayMs);
  }

  #enterCrashLoop(slot: Slot, lastExit: WorkerExit, now: number): void {
    this.#setState(slot, 'failed');
    const event: CrashLoopEvent = {
      worker: slot.definition.name,
      crashes: slot.crashTimes.length,
      windowMs: this.#options.crashLoop.windowMs,
      lastExit,
      at: now,
    };
    this.#logger.error({ ...event }, 'worker crash loop: not restarting');
    this.#emit('worker.crash-loop', event);
    const rollback = this.#options.rollback;
    if (!rollback) return;
    void (async () => {
      try {
        const result = await rollback(event, { signal: this.#abort.signal });
        if (result === 'restart' && !this.#closing && slot.state === 'failed') {
          slot.crashTimes = [];
          slot.consecutiveCrashes = 0;
          await this.#launch(slot);
        }
      } catch (error) {
        this.#logger.error({ worker: slot.definition.name, error: String(error) }, 'supervisor rollback hook failed');
      }
    })();
  }

  async #stopSlot(slot: Slot): Promise<void> {
    if (slot.state === 'backoff') {
      if (slot.backoffTimer !== undefined) this.#clock.clearTimeout(slot.backoffTimer);
      slot.backoffTimer = undefined;
      this.#markStopped(slot, 'requested');
      return;
    }
    const child = slot.child;
    if (!child) return;
    if (!slot.stopRequested) {
      slot.stopRequested = true;
      this.#setState(slot, 'stopping');
      child.kill(this.#options.stopSignal);
      slot.graceTimer = this.#clock.setTimeout(() => {
        slot.graceTimer = undefined;
        if (slot.child !== child) return;
        slot.killed = true;
        this.#logger.warn({ worker: slot.definition.name }, 'worker ignored the stop signal: killing it');
        child.kill('SIGKILL');
      }, this.#options.gracePeriodMs);
    }
    await slot.exited;
  }
}

/** Same as `new Supervisor(options)`. */
export function createSupervisor(options: SupervisorOptions): Supervisor {
  return new Supervisor(options);
}
