import type { SerializedError } from '@agentrix/core';
import type { ApprovalRequest } from './approval-gate.js';
import type { RouteDecision } from './router.js';
import type { SkillSource } from './skill.js';

/** MCP transports the manager speaks. */
export type McpTransportKind = 'stdio' | 'streamable-http' | 'sse';

/**
 * Events of `@agentrix/skills`, named `noun.action` (unique across packages). They join core's
 * `AgentrixEventMap` (below), so they arrive on the one `AgentrixEvents` stream. Tool calls
 * themselves are reported with the core `tool.called` / `tool.completed` events.
 */
export interface SkillsEventMap {
  'skill.registered': { name: string; source: SkillSource };
  'skill.unregistered': { name: string; source: SkillSource };
  'skill.retry': {
    agentId: string;
    turnId: string;
    toolCallId: string;
    name: string;
    attempt: number;
    delayMs: number;
    error: SerializedError;
  };
  /** A call whose idempotency key was already completed: the stored result was returned. */
  'skill.deduplicated': { agentId: string; turnId: string; toolCallId: string; name: string; key: string };
  'approval.requested': { request: ApprovalRequest };
  'approval.resolved': {
    request: ApprovalRequest;
    outcome: 'approved' | 'rejected' | 'timed-out' | 'cancelled';
    reason?: string;
    by?: string;
  };
  'router.decided': { agentId: string; decision: RouteDecision; durationMs: number };
  'mcp.connected': { server: string; transport: McpTransportKind; tools: number; attempt: number };
  'mcp.disconnected': { server: string; error?: SerializedError };
  'mcp.reconnecting': { server: string; attempt: number; delayMs: number; error?: SerializedError };
  'mcp.tools-changed': { server: string; added: string[]; removed: string[] };
  /** A line the server wrote to stderr (stdio servers only). */
  'mcp.stderr': { server: string; text: string };
}

export type SkillsEventName = keyof SkillsEventMap;

declare module '@agentrix/core' {
  interface AgentrixEventMap extends SkillsEventMap {}
}
