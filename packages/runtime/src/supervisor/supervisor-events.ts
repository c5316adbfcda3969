import type { SerializedError } from '@agentrix/core';

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

/**
 * Every event a `Supervisor` emits, by name (`noun.action`, unique across packages). Lifecycle
 * only: no payloads of workers. They join core's `AgentrixEventMap` (below), so they arrive on
 * the one `AgentrixEvents` stream.
 */
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

declare module '@agentrix/core' {
  interface AgentrixEventMap extends SupervisorEventMap {}
}
