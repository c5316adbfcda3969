import type { AgentrixEvents, Clock, IdempotencyStore, Logger, RetryPolicy, ToolContext } from '@agentrix/core';
import type { ApprovalGate } from './approval-gate.js';
import type { SkillRegistry } from './skill-registry.js';

export interface SkillExecutorOptions {
  /** Resolves names for {@link SkillExecutor.call} and for tool calls run without a skill set. */
  registry?: SkillRegistry;
  /** Where idempotency records live. Default: a new `InMemoryIdempotencyStore`. */
  idempotency?: IdempotencyStore;
  /**
   * Deadline of one attempt of a skill without its own `timeoutMs`. Past it the call fails with
   * `TOOL_TIMEOUT` even when the skill ignores its signal (its late result is dropped). Default
   * `DEFAULT_TOOL_TIMEOUT_MS` from `@agentrix/core` (60 s).
   */
  defaultTimeoutMs?: number;
  /**
   * Lease of a claimed key while its call runs. Default: 5 min, or 2x the attempt deadline (the
   * skill's `timeoutMs`, else `defaultTimeoutMs`) x attempts when longer (6 min with the defaults).
   */
  idempotencyLeaseMs?: number;
  /** Where `requiresApproval` calls wait. Default: a new `ApprovalGate` (5 min timeout). */
  approvals?: ApprovalGate;
  /** Retries of retryable errors for skills without their own policy. Default: 3 attempts from 100 ms, capped at 5 s. */
  retry?: Partial<RetryPolicy>;
  /** Longer results are cut, with a marker saying how much was dropped. Default 100 000 characters. */
  maxResultChars?: number;
  /**
   * Where `skill.retry`, `skill.deduplicated`, the default gate's approvals, and `tool.called` /
   * `tool.completed` of calls whose context brings no stream go. Default: a new `AgentrixEvents`,
   * as `executor.events`.
   */
  events?: AgentrixEvents;
  /**
   * Exact secrets of the host (API keys, tokens, passwords) removed, raw and URL-encoded, from
   * everything the executor sends out: tool errors for the model, events, approval records and
   * logs. URL credentials, `password=` parameters, bearer tokens and `sk-` keys are always removed.
   */
  secrets?: readonly (string | undefined)[];
  /** Retries and timeouts (warn), approvals of the default gate (info). Default: silent. */
  logger?: Logger;
  clock?: Clock;
  /** Jitter source of the backoff. Default `Math.random`. */
  random?: () => number;
}

/** Who is calling: the runtime's `ToolExecutionContext` fits (extra fields are ignored). */
export interface SkillCallContext {
  agentId: string;
  turnId: string;
  /** Fires when the turn is aborted; an aborted call rejects instead of returning a tool error. */
  signal: AbortSignal;
  /** How skills send messages; a skill that sends fails without it. */
  send?: ToolContext['send'];
  /** How skills ask other agents (delegation); a skill that asks fails without it. */
  ask?: ToolContext['ask'];
  /** The conversation of the turn. Default `main`. */
  threadId?: string;
  /** Where `tool.called` / `tool.completed` of this call go (the runtime passes its turn's). Default: the executor's `events`. */
  events?: AgentrixEvents | undefined;
}
