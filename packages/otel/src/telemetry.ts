import {
  AgentrixError,
  type AgentrixEventName,
  type AgentrixEvents,
  type Logger,
  type MessageBus,
  serializeError,
  silentLogger,
  type TraceCarrier,
} from '@agentrix/core';
import { context, createNoopMeter, type Histogram, type Meter, metrics, type Tracer, trace } from '@opentelemetry/api';
import { DEFAULT_MAX_ATTRIBUTE_LENGTH } from './attributes.js';
import { EventMetrics } from './event-metrics.js';
import { type GaugeSources, observeGauges } from './observed-gauges.js';
import { METRIC, SCOPE } from './semantic.js';
import type { TelemetryOptions } from './telemetry-options.js';
import { toCarrier } from './trace-context.js';
import { TracedBus } from './traced-bus.js';
import { type JobLike, runTracedJob } from './traced-jobs.js';
import { type SpanPolicy, TurnSpans } from './turn-spans.js';

type Listener = (event: any) => void;

/** The class of the API's no-op meter (what every meter is until a meter provider is registered). */
const NOOP_METER = createNoopMeter().constructor as new () => Meter;

/**
 * OpenTelemetry traces and metrics for Agentrix, through `@opentelemetry/api` only: the host
 * installs the SDK and its exporters; without one every span and instrument is a no-op.
 * `createAgentrix({ telemetry })` wires it (`attach` to the event stream, `traceBus` around the
 * bus, `observe` the queues, pool and budgets); use the methods yourself for parts you compose.
 *
 * Instrumentation never fails or slows a turn: spans end synchronously into the host's span
 * processor (a batch processor exports in the background and drops what it cannot send), and an
 * error thrown by a misconfigured provider inside a listener is caught, counted (`failures`) and
 * logged once.
 */
export class AgentrixTelemetry {
  readonly tracer: Tracer;
  readonly meter: Meter;
  readonly #policy: SpanPolicy;
  readonly #spans: TurnSpans;
  readonly #metrics: EventMetrics;
  readonly #jobDuration: Histogram;
  readonly #logger: Logger;
  readonly #reported = new Set<string>();
  readonly #metered: boolean;
  #failures = 0;

  constructor(options: TelemetryOptions = {}) {
    const maxAttributeLength = options.maxAttributeLength ?? DEFAULT_MAX_ATTRIBUTE_LENGTH;
    if (!Number.isInteger(maxAttributeLength) || maxAttributeLength < 32) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `telemetry maxAttributeLength must be an integer >= 32, got ${String(maxAttributeLength)}`,
      );
    }
    this.tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
    this.meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
    this.#metered = !(this.meter instanceof NOOP_METER);
    this.#policy = {
      recordContent: options.recordContent === true,
      maxAttributeLength,
      secrets: options.secrets ?? [],
    };
    this.#logger = options.logger ?? silentLogger;
    this.#spans = new TurnSpans(this.tracer, this.#policy);
    this.#metrics = new EventMetrics(this.meter, options.now ?? Date.now);
    this.#jobDuration = this.meter.createHistogram(METRIC.jobDuration, {
      unit: 's',
      description: 'Duration of one job attempt',
    });
  }

  /** Errors thrown inside the instrumentation (a broken exporter or processor), swallowed so no turn fails. */
  get failures(): number {
    return this.#failures;
  }

  /** Turn and tool spans still open. */
  get openSpans(): number {
    return this.#spans.open;
  }

  /**
   * Builds spans and records metrics from the event stream. Returns the function that stops it.
   * Listeners run inside the emitting call, so each does a few map operations and no I/O.
   */
  attach(events: AgentrixEvents): () => void {
    const spans = this.#spans;
    // With no meter provider the meter is the API's no-op for good (the global meter provider
    // is not a proxy): then no metric work is attached at all.
    const meters = this.#metered ? this.#metrics : undefined;
    const listeners: [string, Listener][] = [
      [
        'message.received',
        (event) => {
          spans.received(event);
          meters?.received(event);
        },
      ],
      ['turn.started', (event) => spans.turnStarted(event)],
      ['model.retry', (event) => spans.modelRetry(event)],
      [
        'model.responded',
        (event) => {
          spans.modelResponded(event);
          meters?.modelResponded(event);
        },
      ],
      ['tool.called', (event) => spans.toolCalled(event)],
      [
        'tool.completed',
        (event) => {
          spans.toolCompleted(event);
          meters?.toolCompleted(event);
        },
      ],
      [
        'turn.completed',
        (event) => {
          spans.turnCompleted(event);
          meters?.turnCompleted(event);
        },
      ],
      [
        'turn.failed',
        (event) => {
          spans.turnFailed(event);
          meters?.turnFailed(event);
        },
      ],
      ['gateway.degraded', (event) => spans.degraded(event)],
      [
        'ledger.recorded',
        (event) => {
          spans.recorded(event);
          meters?.recorded(event);
        },
      ],
    ];
    if (meters) {
      listeners.push(
        ['message.dead-lettered', (event) => meters.deadLettered(event)],
        ['job.retried', (event) => meters.jobRetried(event)],
        ['job.dead-lettered', (event) => meters.jobDeadLettered(event)],
      );
    }
    const guarded = listeners.map(([name, listener]) => [name, this.#guard(name, listener)] as const);
    for (const [name, listener] of guarded) events.on(name as AgentrixEventName, listener);
    return () => {
      for (const [name, listener] of guarded) events.off(name as AgentrixEventName, listener);
    };
  }

  /** A bus whose sends carry the sender's trace context (see {@link TracedBus}). */
  traceBus(bus: MessageBus): TracedBus {
    return new TracedBus(bus, this.tracer, this.#spans, this.#policy.maxAttributeLength, (where, error) =>
      this.#failed(`bus.${where}`, error),
    );
  }

  /** Gauges of queue depth, dead letters, pool and budgets, read at each collection. Returns the function that stops them. */
  observe(sources: GaugeSources): () => void {
    if (!this.#metered) return () => {};
    return observeGauges(this.meter, sources);
  }

  /**
   * Runs one attempt of a scheduler job in a `job <type>` span (and records
   * `agentrix.job.duration`), continuing the trace the job was added in. A `JobWorker` calls it
   * for each attempt when its queue was opened with `tracing: telemetry`.
   */
  runJob<T>(job: JobLike, attempt: () => Promise<T>): Promise<T> {
    return runTracedJob(job, attempt, this.tracer, this.#jobDuration, this.#policy);
  }

  /**
   * Runs `work` with the turn `agentId` is running on `threadId` as the active context, so what it
   * starts (a job added to a `JobQueue` opened with `tracing: telemetry`, a span of the host's)
   * continues the turn's trace. `createAgentrix` runs every tool call through it. Effective when
   * the host's SDK registered a context manager (`NodeSDK` does).
   */
  inTurn<T>(agentId: string, threadId: string | undefined, work: () => T): T {
    const turn = this.#spans.parentOf(agentId, threadId);
    return turn === undefined ? work() : context.with(turn, work);
  }

  /**
   * The active trace context as a carrier, to store with what crosses a process boundary without
   * a traced bus: a `JobQueue` opened with `tracing: telemetry` stores it with each job it adds.
   */
  carrier(): TraceCarrier | undefined {
    const span = trace.getSpan(context.active());
    return span === undefined ? undefined : toCarrier(span.spanContext());
  }

  #guard(name: string, listener: Listener): Listener {
    return (event) => {
      try {
        listener(event);
      } catch (error) {
        this.#failed(name, error);
      }
    };
  }

  #failed(where: string, error: unknown): void {
    this.#failures++;
    if (this.#reported.has(where)) return;
    this.#reported.add(where);
    this.#logger.warn(
      { where, error: serializeError(error, { secrets: this.#policy.secrets }) },
      'telemetry: instrumentation failed; left untraced (reported once per place)',
    );
  }
}

/** `new AgentrixTelemetry(options)`. */
export function createTelemetry(options: TelemetryOptions = {}): AgentrixTelemetry {
  return new AgentrixTelemetry(options);
}
