import type { TraceCarrier } from '@agentrix/core';
import { TraceCarrierSchema } from '@agentrix/core';
import { context, type Histogram, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { contentAttribute } from './attributes.js';
import { ATTR } from './semantic.js';
import { contextOf } from './trace-context.js';

/** The part of a scheduler job handler this wraps, declared structurally (no dependency on the scheduler). */
export interface JobHandlerLike {
  handler(
    payload: any,
    context: {
      signal: AbortSignal;
      job: { id: string; queue: string; type: string; attempts: number; payload: unknown };
    },
  ): unknown;
}

/** The trace context of a job: `payload.trace`, when the payload is an object carrying one. */
function carrierOf(payload: unknown): TraceCarrier | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const parsed = TraceCarrierSchema.safeParse((payload as { trace?: unknown }).trace);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Job handlers that run each attempt in a `job <type>` span: child of the context the job's
 * payload carries in `trace` (see `AgentrixTelemetry.carrier()`), else a new trace. The span is
 * made active for the handler (effective when the host's SDK registered a context manager), so
 * what it sends or asks continues the trace.
 */
export function traceJobHandlers<Handlers extends Record<string, JobHandlerLike>>(
  handlers: Handlers,
  tracer: Tracer,
  duration: Histogram,
  policy: { maxAttributeLength: number; secrets: readonly string[] },
): Handlers {
  const traced: Record<string, JobHandlerLike> = {};
  for (const [type, definition] of Object.entries(handlers)) {
    traced[type] = {
      ...definition,
      handler: async (payload, handlerContext) => {
        const { job } = handlerContext;
        const started = performance.now();
        const span = tracer.startSpan(
          `job ${type}`,
          {
            kind: SpanKind.CONSUMER,
            attributes: {
              [ATTR.jobId]: job.id,
              [ATTR.jobQueue]: job.queue,
              [ATTR.jobType]: type,
              [ATTR.attempt]: job.attempts,
            },
          },
          contextOf(carrierOf(job.payload)),
        );
        let outcome = 'completed';
        try {
          return await context.with(trace.setSpan(context.active(), span), () =>
            definition.handler(payload, handlerContext),
          );
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
            [ATTR.jobType]: type,
            [ATTR.outcome]: outcome,
          });
        }
      },
    };
  }
  return traced as Handlers;
}
