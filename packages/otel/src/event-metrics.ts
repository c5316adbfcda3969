import type { AgentrixEventMap } from '@agentrix/core';
import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import { ATTR, METRIC } from './semantic.js';

/** The scheduler's and the gateway's events this listens to, declared structurally (no dependency on them). */
export interface OperationSignals {
  'ledger.recorded': { record: { agentId?: string; model: string; costUsd: number } };
  'job.completed': { queue: string; type: string };
  'job.retried': { queue: string; type: string; error: { code?: string; name: string } };
  'job.dead-lettered': { queue: string; type: string; error: { code?: string; name: string } };
}

/** Every instrument this records, by its key in METRIC: kind, unit and description. */
const INSTRUMENTS = {
  turnDuration: ['histogram', 's', 'Time from taking a message to its turn being committed or failing'],
  operationDuration: ['histogram', 's', 'Duration of one model call (GenAI client operation)'],
  tokenUsage: ['histogram', '{token}', 'Tokens per model call, by gen_ai.token.type (input, output)'],
  cost: ['counter', 'USD', 'Cost charged by the gateway'],
  toolDuration: ['histogram', 's', 'Duration of a tool call'],
  toolFailures: ['counter', '{call}', 'Tool calls that ended in an error'],
  queueTime: ['histogram', 's', 'Age of a message when its turn starts (time spent in the inbox)'],
  redeliveries: ['counter', '{message}', 'Deliveries of a message after its first'],
  deadLetters: ['counter', '{message}', 'Messages moved to dead letter'],
  jobRetries: ['counter', '{job}', 'Job attempts retried'],
  jobDeadLetters: ['counter', '{job}', 'Jobs moved to dead letter'],
} as const satisfies Partial<Record<keyof typeof METRIC, readonly ['histogram' | 'counter', string, string]>>;

type Instruments = {
  [K in keyof typeof INSTRUMENTS]: (typeof INSTRUMENTS)[K][0] extends 'histogram' ? Histogram : Counter;
};

/** Creates every instrument of INSTRUMENTS on `meter`. */
function createInstruments(meter: Meter): Instruments {
  const entries = Object.entries(INSTRUMENTS) as [
    keyof typeof INSTRUMENTS,
    (typeof INSTRUMENTS)[keyof typeof INSTRUMENTS],
  ][];
  return Object.fromEntries(
    entries.map(([key, [kind, unit, description]]) => {
      const options = { unit, description };
      return [
        key,
        kind === 'histogram' ? meter.createHistogram(METRIC[key], options) : meter.createCounter(METRIC[key], options),
      ];
    }),
  ) as Instruments;
}

/**
 * Metrics recorded from the one event stream: turn and model latency, tokens and cost by agent
 * and model, tool latency and failures, queue time, redeliveries and dead letters. Durations are
 * in seconds (the OpenTelemetry convention); agent ids are attributes, so a host with very many
 * agents may drop `gen_ai.agent.id` with a View.
 */
export class EventMetrics {
  readonly #metric: Instruments;
  /** The clock of `envelope.createdAt` (the bus's): queue time is now minus it. */
  readonly #now: () => number;

  constructor(meter: Meter, now: () => number) {
    this.#now = now;
    this.#metric = createInstruments(meter);
  }

  received({ agentId, envelope, attempt }: AgentrixEventMap['message.received']): void {
    const agent = { [ATTR.agentId]: agentId };
    this.#metric.queueTime.record(Math.max(0, this.#now() - envelope.createdAt) / 1000, agent);
    if (attempt > 1) this.#metric.redeliveries.add(1, agent);
  }

  turnCompleted({ agentId, durationMs }: AgentrixEventMap['turn.completed']): void {
    this.#metric.turnDuration.record(durationMs / 1000, { [ATTR.agentId]: agentId, [ATTR.outcome]: 'completed' });
  }

  turnFailed({ agentId, durationMs, error }: AgentrixEventMap['turn.failed']): void {
    this.#metric.turnDuration.record(durationMs / 1000, {
      [ATTR.agentId]: agentId,
      [ATTR.outcome]: 'failed',
      [ATTR.errorType]: error.code ?? error.name,
    });
  }

  modelResponded({ agentId, model, usage, durationMs }: AgentrixEventMap['model.responded']): void {
    const base = { [ATTR.operation]: 'chat', [ATTR.requestModel]: model, [ATTR.agentId]: agentId };
    this.#metric.operationDuration.record(durationMs / 1000, base);
    this.#metric.tokenUsage.record(usage.inputTokens, { ...base, [ATTR.tokenType]: 'input' });
    this.#metric.tokenUsage.record(usage.outputTokens, { ...base, [ATTR.tokenType]: 'output' });
  }

  toolCompleted({ agentId, name, isError, durationMs, error }: AgentrixEventMap['tool.completed']): void {
    const attributes = { [ATTR.toolName]: name, [ATTR.agentId]: agentId, [ATTR.outcome]: isError ? 'error' : 'ok' };
    this.#metric.toolDuration.record(durationMs / 1000, attributes);
    if (isError)
      this.#metric.toolFailures.add(1, {
        [ATTR.toolName]: name,
        [ATTR.agentId]: agentId,
        [ATTR.errorType]: error?.code ?? 'tool_error',
      });
  }

  deadLettered({ inbox }: AgentrixEventMap['message.dead-lettered']): void {
    this.#metric.deadLetters.add(1, { [ATTR.destination]: inbox });
  }

  recorded({ record }: OperationSignals['ledger.recorded']): void {
    if (record.costUsd <= 0) return;
    this.#metric.cost.add(record.costUsd, {
      [ATTR.requestModel]: record.model,
      ...(record.agentId !== undefined ? { [ATTR.agentId]: record.agentId } : {}),
    });
  }

  jobRetried(event: OperationSignals['job.retried']): void {
    this.#metric.jobRetries.add(1, jobFailure(event));
  }

  jobDeadLettered(event: OperationSignals['job.dead-lettered']): void {
    this.#metric.jobDeadLetters.add(1, jobFailure(event));
  }
}

/** The attributes of a failed job attempt: its queue, type and error. */
function jobFailure({ queue, type, error }: OperationSignals['job.retried']) {
  return { [ATTR.jobQueue]: queue, [ATTR.jobType]: type, [ATTR.errorType]: error.code ?? error.name };
}
