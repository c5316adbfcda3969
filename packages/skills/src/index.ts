export type {
  ApprovalDecision,
  ApprovalGateOptions,
  ApprovalRequest,
  ApprovalRequestInput,
} from './approval-gate.js';
export { ApprovalGate } from './approval-gate.js';
export type { MemoryHit, ScheduleJobPort, SearchMemoryPort, SpawnAgentPort } from './builtin-skills.js';
export { createScheduleJobSkill, createSearchMemorySkill, createSpawnAgentSkill } from './builtin-skills.js';
export type { McpTransportKind, SkillsEventMap, SkillsEventName } from './events.js';
export type { InMemoryIdempotencyStoreOptions } from './in-memory-idempotency-store.js';
export { InMemoryIdempotencyStore } from './in-memory-idempotency-store.js';
export type { McpClientManagerOptions, McpServerStatus } from './mcp/mcp-client-manager.js';
export { McpClientManager } from './mcp/mcp-client-manager.js';
export type { ElicitRequestParams, McpConnectionState } from './mcp/mcp-connection.js';
export type {
  McpHttpServerOptions,
  McpServerCommonOptions,
  McpServerOptions,
  McpStdioServerOptions,
} from './mcp/mcp-server-options.js';
export { formatToolResult } from './mcp/mcp-tool-skill.js';
export { namespacedToolName } from './mcp/tool-names.js';
export type { RouteDecision, RouteInput, RouterOptions, RouterRule, RouteStage } from './router.js';
export { Router } from './router.js';
export type { AttemptOptions } from './run-attempt.js';
export { AttemptContext, runAttempt } from './run-attempt.js';
export type {
  CostTier,
  IdempotencyKeyStrategy,
  Skill,
  SkillExtras,
  SkillKeyContext,
  SkillOptions,
  SkillSource,
} from './skill.js';
export { defineSkill, isSkill, skillFromTool } from './skill.js';
export type { ToolSetLike } from './skill-executor.js';
export { hashInput, SkillExecutor } from './skill-executor.js';
export type { SkillCallContext, SkillExecutorOptions } from './skill-executor-options.js';
export type { RegisterOptions, SkillFilter, SkillRegistryOptions, SkillSet } from './skill-registry.js';
export { SkillRegistry } from './skill-registry.js';
export { isToolPattern, matchesToolPattern } from './tool-pattern.js';
