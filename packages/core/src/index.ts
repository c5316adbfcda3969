export type { AgentSpec, AgentSpecInput, AgentState, RetryPolicy } from './agent.js';
export {
  AGENT_STATES,
  AgentSpecSchema,
  AgentStateSchema,
  RetryPolicySchema,
} from './agent.js';
export type { AgentRegistry, AgentRegistryEntry } from './agent-registry.js';
export { abortError, backoffDelay, sleep, throwIfAborted } from './async.js';
export type {
  BudgetCounter,
  BudgetReservation,
  BudgetReserveLine,
  BudgetReserveResult,
  BudgetSettleLine,
  BudgetSettlement,
  BudgetSettleResult,
  BudgetStore,
  ReleasedReservation,
} from './budget-store.js';
export type {
  AssistantMessage,
  CallScope,
  ChatMessage,
  ChatModel,
  ChatRequest,
  ChatResponse,
  ChatStreamPart,
  Embedder,
  FinishReason,
  SystemMessage,
  ToolCall,
  ToolChoice,
  ToolDefinition,
  ToolMessage,
  Usage,
  UserMessage,
} from './chat.js';
export {
  AssistantMessageSchema,
  addUsage,
  ChatMessageSchema,
  emptyUsage,
  SystemMessageSchema,
  ToolCallSchema,
  ToolMessageSchema,
  UsageSchema,
  UserMessageSchema,
} from './chat.js';
export type { Clock, TimerHandle, TimerOptions } from './clock.js';
export { BACKGROUND_TIMER, systemClock } from './clock.js';
export type { AgentContext, ContextStore, ThreadInfo } from './context-store.js';
export { AgentContextSchema, CONTEXT_VERSION } from './context-store.js';
export type {
  AgentrixErrorCode,
  AgentrixErrorCodeExtensions,
  AgentrixErrorKind,
  AgentrixErrorOptions,
  SerializedError,
  SerializeErrorOptions,
} from './errors.js';
export { AgentrixError, serializeError, toAgentrixError } from './errors.js';
export type { AgentrixEventMap, AgentrixEventName, EventTap } from './events.js';
export { AgentrixEvents } from './events.js';
export type { IdempotencyClaim, IdempotencyRecord, IdempotencyStore } from './idempotency-store.js';
export type { IdGenerator } from './ids.js';
export { createSequentialIds, randomId } from './ids.js';
export type { DegradationStep, LedgerQuery, LedgerRecord, LedgerStore } from './ledger-store.js';
export type { Logger, LogLevel } from './logger.js';
export { createConsoleLogger, redactingLogger, silentLogger } from './logger.js';
export type { BroadcastInput, MessageEnvelope, SendInput, TraceCarrier } from './message.js';
export {
  AddressSchema,
  BroadcastInputSchema,
  DEFAULT_THREAD,
  isReplyInbox,
  MessageEnvelopeSchema,
  REPLY_INBOX_PREFIX,
  SendInputSchema,
  ThreadIdSchema,
  TRACEPARENT,
  TraceCarrierSchema,
} from './message.js';
export type {
  DeadLetter,
  Delivery,
  InboxStats,
  MessageBus,
  MessageBusOptions,
  NackOptions,
  ReadOptions,
  RedriveOptions,
} from './message-bus.js';
export { REDACTED, redactError, redactText, redactUrl, redactValue } from './redact.js';
export type { DelegateInput, Tool, ToolContext, ToolOptions } from './tool.js';
export { DEFAULT_TOOL_TIMEOUT_MS, defineTool } from './tool.js';
export type { TurnCommit, TurnCommitHook } from './turn-commit.js';
export { formatIssues, parseWith } from './validation.js';
