import { TRACEPARENT, type TraceCarrier } from '@agentrix/core';
import {
  type Context,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  type SpanContext,
  TraceFlags,
  trace,
} from '@opentelemetry/api';

/**
 * W3C Trace Context on messages, written and read here rather than through the global
 * propagator: a host whose SDK registers no propagator (a bare `BasicTracerProvider`) still gets
 * one trace across processes, and `envelope.trace` always holds the one format its schema takes.
 */
export function toCarrier(spanContext: SpanContext): TraceCarrier | undefined {
  if (!isSpanContextValid(spanContext)) return undefined;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  const carrier: TraceCarrier = { traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}` };
  const state = spanContext.traceState?.serialize();
  if (state) carrier.tracestate = state.slice(0, 512);
  return carrier;
}

/** The remote parent a carrier names, or the root context when it names none (or a bad one). */
export function contextOf(carrier: TraceCarrier | undefined): Context {
  if (carrier === undefined || !TRACEPARENT.test(carrier.traceparent)) return ROOT_CONTEXT;
  const [, traceId, spanId, flags] = carrier.traceparent.split('-') as [string, string, string, string];
  const spanContext: SpanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(carrier.tracestate ? { traceState: createTraceState(carrier.tracestate) } : {}),
  };
  return isSpanContextValid(spanContext) ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : ROOT_CONTEXT;
}
