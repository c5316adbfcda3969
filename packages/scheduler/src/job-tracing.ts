import type { TraceCarrier } from '@agentrix/core';
import type { StoredJob } from './job-queue.js';

/**
 * Traces jobs across processes without the scheduler knowing OpenTelemetry: the queue stores the
 * carrier of whoever adds a job in the job's own `trace` column, and the worker runs each
 * attempt through `runJob`, which continues that trace. `AgentrixTelemetry` from
 * `@agentrix/otel` is one (`JobQueue.open({ database, tracing: agentrix.telemetry })`).
 */
export interface JobTracing {
  /** The trace context of the caller adding jobs (its active span), or none. */
  carrier(): TraceCarrier | undefined;
  /** Runs one attempt of `job` in a span that continues `job.trace`; rethrows what `attempt` throws. */
  runJob<T>(job: StoredJob, attempt: () => Promise<T>): Promise<T>;
}
