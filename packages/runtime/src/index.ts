export type { AgentFactoryDependencies } from './agent-factory.js';
export { AgentFactory } from './agent-factory.js';
export type { CreateAgentOptions } from './agent-manager.js';
export { AgentManager } from './agent-manager.js';
export type { AgentManagerOptions } from './agent-manager-options.js';
export type { AgentPoolOptions } from './agent-pool.js';
export { AgentPool } from './agent-pool.js';
export { AgentRuntime } from './agent-runtime.js';
export type { AgentRuntimeDependencies, AgentRuntimeParts } from './agent-runtime-dependencies.js';
export { AGENT_TRANSITIONS, AgentStateMachine } from './agent-state-machine.js';
export type { Agentrix, AgentrixSkills } from './agentrix.js';
export type {
  AgentrixDistillOptions,
  AgentrixMcpOptions,
  AgentrixMemoryOptions,
  AgentrixOptions,
} from './agentrix-options.js';
export type { Approvals, PendingApproval } from './approvals.js';
export type { AskOptions } from './ask-options.js';
export { ContextManager, trimHistory, upgradeContext } from './context-manager.js';
export { createAgentrix } from './create-agentrix.js';
export type { AgentrixHealth, HealthCheck, HealthOptions } from './health.js';
export { InMemoryAgentRegistry } from './in-memory-agent-registry.js';
export { InMemoryContextStore } from './in-memory-context-store.js';
export { LifecycleBus } from './lifecycle-bus.js';
export type { AgentInfo } from './managed-agents.js';
export type { RunTurnOptions, TurnResult } from './run-turn.js';
export { runTurn } from './run-turn.js';
export { sendMessageTool } from './send-message-tool.js';
export type { ShutdownOptions } from './shutdown.js';
export { stableConsumerName } from './shutdown.js';
export type { WorkerState, WorkerStatus } from './supervisor/supervisor.js';
export { createSupervisor, Supervisor } from './supervisor/supervisor.js';
export type {
  CrashLoopEvent,
  SupervisorEventMap,
  SupervisorEventName,
  WorkerExit,
} from './supervisor/supervisor-events.js';
export type {
  CrashLoopOptions,
  RestartPolicy,
  RollbackResult,
  SupervisorBackoffOptions,
  SupervisorOptions,
  WorkerDefinition,
  WorkerOutput,
} from './supervisor/supervisor-options.js';
export { SupervisorOptionsSchema } from './supervisor/supervisor-options.js';
export type { ToolExecutionContext, ToolExecutor } from './tool-execution.js';
export { executeToolCall, sequentialToolExecutor } from './tool-execution.js';
export type { ToolSet, ToolSource } from './tool-set.js';
export { composeToolSets, createToolSet } from './tool-set.js';
export type { TurnRouter } from './turn-router.js';
export { narrowToolSet } from './turn-router.js';
export type { WaitForIdleOptions } from './wait-for-idle.js';
