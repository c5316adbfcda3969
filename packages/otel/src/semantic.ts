/**
 * Names of spans, attributes and metrics. GenAI ones follow the OpenTelemetry GenAI semantic
 * conventions (https://opentelemetry.io/docs/specs/semconv/gen-ai/), messaging ones the messaging
 * conventions; `agentrix.*` are this package's own. docs/observability.md lists them all.
 */
export const ATTR = {
  operation: 'gen_ai.operation.name',
  system: 'gen_ai.provider.name',
  agentId: 'gen_ai.agent.id',
  agentName: 'gen_ai.agent.name',
  conversation: 'gen_ai.conversation.id',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  finishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  tokenType: 'gen_ai.token.type',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolArguments: 'gen_ai.tool.call.arguments',
  toolResult: 'gen_ai.tool.call.result',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  errorType: 'error.type',
  messagingSystem: 'messaging.system',
  messagingOperation: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  thread: 'agentrix.thread.id',
  turnId: 'agentrix.turn.id',
  attempt: 'agentrix.message.attempt',
  from: 'agentrix.message.from',
  step: 'agentrix.step',
  steps: 'agentrix.turn.steps',
  stopReason: 'agentrix.turn.stop_reason',
  outcome: 'agentrix.outcome',
  costUsd: 'agentrix.cost.usd',
  degradationStep: 'agentrix.degradation.step',
  degradationReason: 'agentrix.degradation.reason',
  budget: 'agentrix.budget.id',
  budgetUnit: 'agentrix.budget.unit',
  queueState: 'agentrix.queue.state',
  jobId: 'agentrix.job.id',
  jobQueue: 'agentrix.job.queue',
  jobType: 'agentrix.job.type',
} as const;

export const METRIC = {
  turnDuration: 'agentrix.turn.duration',
  operationDuration: 'gen_ai.client.operation.duration',
  tokenUsage: 'gen_ai.client.token.usage',
  cost: 'agentrix.cost',
  toolDuration: 'agentrix.tool.duration',
  toolFailures: 'agentrix.tool.failures',
  queueTime: 'agentrix.message.queue_time',
  redeliveries: 'agentrix.message.redeliveries',
  deadLetters: 'agentrix.message.dead_letters',
  jobDuration: 'agentrix.job.duration',
  jobRetries: 'agentrix.job.retries',
  jobDeadLetters: 'agentrix.job.dead_letters',
  queueDepth: 'agentrix.queue.depth',
  queueDeadLetters: 'agentrix.queue.dead_letters',
  poolWaiters: 'agentrix.pool.waiters',
  poolActive: 'agentrix.pool.active',
  budgetRemaining: 'agentrix.budget.remaining',
} as const;

/** Instrumentation scope of the tracer and the meter. */
export const SCOPE = '@agentrix/otel';
