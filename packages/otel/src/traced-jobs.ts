import type { TraceCarrier } from '@agentrix/core';
import { context, type Histogram, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { contentAttribute } from './attributes.js';
import { ATTR } from './semantic.js';
import { contextOf } from './trace-context.js';

/** The part of a scheduler job this reads, declared structurally (no dependency on the scheduler). */
export interface JobLike {
  id: string;
  queue: string;
  type: string;
  attempts: number;
  trace: TraceCarrier | undefined;
}

/**
 * Runs one job attempt in a `job <type>` span, child of the trace the job was added in (its
 * `trace` column), else a new trace, and records `agentrix.job.duration`. The span is made
 * active for the attempt (effective when the host's SDK registered a context manager), so what
 * the handler sends, asks or adds continues the trace.
 */
export async function runTracedJob<T>(
  job: JobLike,
  attempt: () => Promise<T>,
  tracer: Tracer,
  duration: Histogram,
  policy: { maxAttributeLength: number; secrets: readonly string[] },
): Promise<T> {
  const started = performance.now();
  const span = tracer.startSpan(
    `job ${job.type}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        [ATTR.jobId]: job.id,
        [ATTR.jobQueue]: job.queue,
        [ATTR.jobType]: job.type,
        [ATTR.attempt]: job.attempts,
      },
    },
    contextOf(job.trace),
  );
  let outcome = 'completed';
  try {
    return await context.with(trace.setSpan(context.active(), span), attempt);
  } catch (error) {
    outcome = 'failed';
    const code = (error as { code?: unknown })?.code;
    span.setAttribute(ATTR.errorType, typeof code === 'string' ? code : 'Error');
    span.setStatus({
      code: SpanStatusCode.ERROR,
      // A host's error may carry a secret: redacted like recorded content.
      message: contentAttribute(
        error instanceof Error ? error.message : String(error),
        policy.secrets,
        policy.maxAttributeLength,
      ),
    });
    throw error;
  } finally {
    span.setAttribute(ATTR.outcome, outcome);
    span.end();
    duration.record((performance.now() - started) / 1000, {
      [ATTR.jobQueue]: job.queue,
      [ATTR.jobType]: job.type,
      [ATTR.outcome]: outcome,
    });
  }
}
