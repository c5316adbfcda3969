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

/**
 * Metrics recorded from the one event stream: turn and model latency, tokens and cost by agent
 * and model, tool latency and failures, queue time, redeliveries and dead letters. Durations are
 * in seconds (the OpenTelemetry convention); agent ids are attributes, so a host with very many
 * agents may drop `gen_ai.agent.id` with a View.
 */
export class EventMetrics {
  readonly #turnDuration: Histogram;
  readonly #operationDuration: Histogram;
  readonly #tokenUsage: Histogram;
  readonly #cost: Counter;
  readonly #toolDuration: Histogram;
  readonly #toolFailures: Counter;
  readonly #queueTime: Histogram;
  readonly #redeliveries: Counter;
  readonly #deadLetters: Counter;
  readonly #jobRetries: Counter;
  readonly #jobDeadLetters: Counter;
  /** The clock of `envelope.createdAt` (the bus's): queue time is now minus it. */
  readonly #now: () => number;

  constructor(meter: Meter, now: () => number) {
    this.#now = now;
    this.#turnDuration = meter.createHistogram(METRIC.turnDuration, {
      unit: 's',
      description: 'Time from taking a message to its turn being committed or failing',
    });
    this.#operationDuration = meter.createHistogram(METRIC.operationDuration, {
      unit: 's',
      description: 'Duration of one model call (GenAI client operation)',
    });
    this.#tokenUsage = meter.createHistogram(METRIC.tokenUsage, {
      unit: '{token}',
      description: 'Tokens per model call, by gen_ai.token.type (input, output)',
    });
    this.#cost = meter.createCounter(METRIC.cost, { unit: 'USD', description: 'Cost charged by the gateway' });
    this.#toolDuration = meter.createHistogram(METRIC.toolDuration, {
      unit: 's',
      description: 'Duration of a tool call',
    });
    this.#toolFailures = meter.createCounter(METRIC.toolFailures, {
      unit: '{call}',
      description: 'Tool calls that ended in an error',
    });
    this.#queueTime = meter.createHistogram(METRIC.queueTime, {
      unit: 's',
      description: 'Age of a message when its turn starts (time spent in the inbox)',
    });
    this.#redeliveries = meter.createCounter(METRIC.redeliveries, {
      unit: '{message}',
      description: 'Deliveries of a message after its first',
    });
    this.#deadLetters = meter.createCounter(METRIC.deadLetters, {
      unit: '{message}',
      description: 'Messages moved to dead letter',
    });
    this.#jobRetries = meter.createCounter(METRIC.jobRetries, { unit: '{job}', description: 'Job attempts retried' });
    this.#jobDeadLetters = meter.createCounter(METRIC.jobDeadLetters, {
      unit: '{job}',
      description: 'Jobs moved to dead letter',
    });
  }

  received({ agentId, envelope, attempt }: AgentrixEventMap['message.received']): void {
    const agent = { [ATTR.agentId]: agentId };
    this.#queueTime.record(Math.max(0, this.#now() - envelope.createdAt) / 1000, agent);
    if (attempt > 1) this.#redeliveries.add(1, agent);
  }

  turnCompleted({ agentId, durationMs }: AgentrixEventMap['turn.completed']): void {
    this.#turnDuration.record(durationMs / 1000, { [ATTR.agentId]: agentId, [ATTR.outcome]: 'completed' });
  }

  turnFailed({ agentId, durationMs, error }: AgentrixEventMap['turn.failed']): void {
    this.#turnDuration.record(durationMs / 1000, {
      [ATTR.agentId]: agentId,
      [ATTR.outcome]: 'failed',
      [ATTR.errorType]: error.code ?? error.name,
    });
  }

  modelResponded({ agentId, model, usage, durationMs }: AgentrixEventMap['model.responded']): void {
    const base = { [ATTR.operation]: 'chat', [ATTR.requestModel]: model, [ATTR.agentId]: agentId };
    this.#operationDuration.record(durationMs / 1000, base);
    this.#tokenUsage.record(usage.inputTokens, { ...base, [ATTR.tokenType]: 'input' });
    this.#tokenUsage.record(usage.outputTokens, { ...base, [ATTR.tokenType]: 'output' });
  }

  toolCompleted({ agentId, name, isError, durationMs, error }: AgentrixEventMap['tool.completed']): void {
    const attributes = { [ATTR.toolName]: name, [ATTR.agentId]: agentId, [ATTR.outcome]: isError ? 'error' : 'ok' };
    this.#toolDuration.record(durationMs / 1000, attributes);
    if (isError)
      this.#toolFailures.add(1, {
        [ATTR.toolName]: name,
        [ATTR.agentId]: agentId,
        [ATTR.errorType]: error?.code ?? 'tool_error',
      });
  }

  deadLettered({ inbox }: AgentrixEventMap['message.dead-lettered']): void {
    this.#deadLetters.add(1, { [ATTR.destination]: inbox });
  }

  recorded({ record }: OperationSignals['ledger.recorded']): void {
    if (record.costUsd <= 0) return;
    this.#cost.add(record.costUsd, {
      [ATTR.requestModel]: record.model,
      ...(record.agentId !== undefined ? { [ATTR.agentId]: record.agentId } : {}),
    });
  }

  jobRetried({ queue, type, error }: OperationSignals['job.retried']): void {
    this.#jobRetries.add(1, {
      [ATTR.jobQueue]: queue,
      [ATTR.jobType]: type,
      [ATTR.errorType]: error.code ?? error.name,
    });
  }

  jobDeadLettered({ queue, type, error }: OperationSignals['job.dead-lettered']): void {
    this.#jobDeadLetters.add(1, {
      [ATTR.jobQueue]: queue,
      [ATTR.jobType]: type,
      [ATTR.errorType]: error.code ?? error.name,
    });
  }
}
