import type { SerializedError } from '@agentrix/core';

/**
 * Every event the scheduler emits (`noun.action`, unique across packages): cron ticks from a
 * `Scheduler`, job outcomes from a `JobQueue` (so also those of the `JobWorker`s on it). They
 * join core's `AgentrixEventMap` (below), so they arrive on the one `AgentrixEvents` stream.
 */
export interface SchedulerEventMap {
  /** A cron tick went to the agent. `firedAt` is much later than `scheduledFor` after downtime or a pause. */
  'tick.sent': { agentId: string; scheduledFor: number; firedAt: number };
  /** A tick came due while the agent was paused with one tick already waiting: this one was skipped. */
  'tick.coalesced': { agentId: string; scheduledFor: number };
  /** A tick could not be sent (the schedule goes on; the next tick comes at its time). */
  'tick.failed': { agentId: string; scheduledFor: number; error: SerializedError };
  'job.completed': { queue: string; jobId: string; type: string; attempt: number };
  /** An attempt failed and the job runs again after `delayMs`. */
  'job.retried': {
    queue: string;
    jobId: string;
    type: string;
    /** The attempt that failed (1 is the first). */
    attempt: number;
    maxAttempts: number;
    delayMs: number;
    error: SerializedError;
  };
  /**
   * The job will not run again: its last attempt failed, its payload can never work (unknown
   * type, failed schema) or its holders' leases expired on every attempt. `redrive` brings it back.
   */
  'job.dead-lettered': { queue: string; jobId: string; type: string; attempts: number; error: SerializedError };
  /** A job whose holder never finished (lease expired) was taken over by `workerId`. */
  'job.reclaimed': {
    queue: string;
    jobId: string;
    type: string;
    attempt: number;
    previousHolder: string;
    workerId: string;
  };
}

export type SchedulerEventName = keyof SchedulerEventMap;

declare module '@agentrix/core' {
  interface AgentrixEventMap extends SchedulerEventMap {}
}
