import type { Logger, SerializedError } from '@agentrix/core';

/** How a worker process ended: only the exit code and signal, never anything it said. */
export interface WorkerExit {
  code: number | null;
  signal: string | null;
}

export interface CrashLoopEvent {
  worker: string;
  /** Crashes counted inside the window. */
  crashes: number;
  windowMs: number;
  lastExit: WorkerExit;
  at: number;
}

/** Every event a `Supervisor` emits, by name (`noun.action`). Lifecycle only: no payloads of workers. */
export interface SupervisorEventMap {
  'worker.started': { worker: string; pid: number; attempt: number; at: number };
  'worker.exited': WorkerExit & {
    worker: string;
    pid: number | undefined;
    /** True for a non-zero exit code, a signal or a failed spawn, unless the supervisor was stopping it. */
    crashed: boolean;
    uptimeMs: number;
    /** Set when the process could not be started at all (e.g. the command does not exist). */
    error?: SerializedError;
    at: number;
  };
  'worker.restarting': {
    worker: string;
    /** The start attempt that follows (1 was the first start). */
    attempt: number;
    /** Crashes in a row (reset after a run longer than `backoff.resetAfterMs`); 0 after a clean exit under `always`. */
    consecutiveCrashes: number;
    delayMs: number;
    at: number;
  };
  'worker.crash-loop': CrashLoopEvent;
  'worker.stopped': {
    worker: string;
    /** `requested`: `stop()` or `close()`; `exited`: ended on its own and its restart policy keeps it down. */
    reason: 'requested' | 'exited';
    /** True when it ignored the stop signal for the grace period and was killed. */
    killed: boolean;
    at: number;
  };
}

export type SupervisorEventName = keyof SupervisorEventMap;
type Listener<K extends SupervisorEventName> = (event: SupervisorEventMap[K]) => void;

/**
 * The supervisor's typed emitter. Listeners run synchronously; one that throws is logged and
 * skipped, so a faulty listener can never stop a worker from being supervised.
 */
export class SupervisorEvents {
  readonly #listeners = new Map<SupervisorEventName, Set<Listener<any>>>();
  readonly #logger: Logger | undefined;

  constructor(logger?: Logger) {
    this.#logger = logger;
  }

  on<K extends SupervisorEventName>(name: K, listener: Listener<K>): this {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener);
    return this;
  }

  off<K extends SupervisorEventName>(name: K, listener: Listener<K>): this {
    this.#listeners.get(name)?.delete(listener);
    return this;
  }

  once<K extends SupervisorEventName>(name: K, listener: Listener<K>): this {
    const wrapper: Listener<K> = (event) => {
      this.off(name, wrapper);
      listener(event);
    };
    return this.on(name, wrapper);
  }

  listenerCount(name: SupervisorEventName): number {
    return this.#listeners.get(name)?.size ?? 0;
  }

  emit<K extends SupervisorEventName>(name: K, event: SupervisorEventMap[K]): void {
    const set = this.#listeners.get(name);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (error) {
        this.#logger?.error({ event: name, error: String(error) }, 'supervisor event listener threw');
      }
    }
  }
}
