import type {
  AgentRegistry,
  AgentrixEvents,
  ChatModel,
  Clock,
  ContextStore,
  IdGenerator,
  Logger,
  MessageBus,
  Tool,
  TurnCommitHook,
} from '@agentrix/core';
import { z } from 'zod';
import type { AgentPool } from './agent-pool.js';
import type { Approvals } from './approvals.js';
import type { ToolExecutor } from './tool-execution.js';
import type { ToolSource } from './tool-set.js';
import type { TurnRouter } from './turn-router.js';

/** Runs when a conversation is forgotten, after its context is deleted. */
export type ForgetHook = (agentId: string, threadId: string) => void | Promise<void>;

export interface AgentManagerOptions {
  /** Models by name; agents pick one with `spec.model` (default `default`). */
  models?: Record<string, ChatModel>;
  /** Shorthand for `models: { default: model }`. */
  model?: ChatModel;
  /** Tools agents may list in `spec.tools`. `send_message` is always registered. */
  tools?: readonly Tool<any, any>[];
  /**
   * Runs the tool calls of each model step instead of the built-in sequential loop: e.g. a
   * `SkillExecutor` of `@agentrix/skills` (idempotency keys, approvals, retries, parallel calls).
   */
  toolExecutor?: ToolExecutor;
  /**
   * Where names in `spec.tools` that are not registered here are looked up, live: e.g. the
   * `SkillRegistry` an `McpClientManager` fills (`everything__*` allows every tool of a server).
   */
  toolSource?: ToolSource;
  /** Chooses each turn's tools before the first model call (e.g. `Router` from `@agentrix/skills`). */
  router?: TurnRouter;
  /** Where approval requests wait (e.g. a `SkillExecutor`'s `approvals`); exposed as `approve` / `reject`. */
  approvals?: Approvals;
  /** The message bus. Default: a new `InMemoryBus` (closed by `close()`; a bus passed in is left open). */
  bus?: MessageBus;
  /** Where contexts persist. Default: in memory. */
  contextStore?: ContextStore;
  /** Where agent specs and states persist, for `restore()` after a restart. Default: in memory. */
  registry?: AgentRegistry;
  /** A shared turn pool, or the cap for a new one. Default: no cap. */
  pool?: AgentPool;
  maxConcurrentTurns?: number;
  /** This process's consumer name on the bus. Default: `runtime-<random id>`. */
  consumer?: string;
  /** Backoff while the bus or store is unreachable: idle agents wait, a turn that hit it pauses and resumes by itself. Default 500 ms doubling to 30 s. */
  outageRetry?: { baseDelayMs?: number; maxDelayMs?: number };
  /** Default wait of `ask()`. Default 60 s. */
  askTimeoutMs?: number;
  /**
   * How often an agent paused on a spent budget (`BUDGET_EXCEEDED`) tries its message again, so it
   * resumes by itself when the period rolls over or the cap is raised. Default 60 s.
   */
  budgetRetryMs?: number;
  /** Deadline of a tool call whose tool sets no `timeoutMs`. Default 60 s (`DEFAULT_TOOL_TIMEOUT_MS`). */
  toolTimeoutMs?: number;
  /**
   * How long `close()` waits for agents to stop before it gives up on them and releases what it
   * holds. Default 5 s; `close({ timeoutMs })` overrides it per call.
   */
  closeTimeoutMs?: number;
  /**
   * Secrets of the host (API keys, tokens, passwords) that must never reach a model, an event, a
   * log line or a stored row: removed from tool errors, serialized errors and log fields.
   * URL credentials, `Authorization` headers and OpenAI-shaped keys are always removed.
   */
  secrets?: readonly string[];
  /**
   * Hooks run as part of each turn's commit: after its reply is sent, before its context is saved
   * and its message acked (memory's `commitTurn` is one). A hook that throws fails the turn (the
   * message is redelivered), so hooks write idempotently by `messageId`.
   */
  onTurnCommit?: TurnCommitHook | readonly TurnCommitHook[];
  /** Hooks run when a thread is forgotten (`forget(agentId, threadId)`): memory forgets the thread's episodes. */
  onForget?: ForgetHook | readonly ForgetHook[];
  clock?: Clock;
  /** Ids of agents, asks, turns and the consumer. Default: a random UUID prefix per manager and a counter (unique across processes). */
  generateId?: IdGenerator;
  events?: AgentrixEvents;
  logger?: Logger;
}

/** The plain-value options, validated when a manager is built. */
export const AgentManagerOptionsSchema = z.looseObject({
  maxConcurrentTurns: z.number().int().min(1).optional(),
  consumer: z.string().min(1).max(200).optional(),
  askTimeoutMs: z.number().int().positive().optional(),
  budgetRetryMs: z.number().int().positive().optional(),
  toolTimeoutMs: z.number().int().positive().optional(),
  closeTimeoutMs: z.number().int().min(0).optional(),
  secrets: z.array(z.string()).optional(),
  outageRetry: z
    .object({ baseDelayMs: z.number().int().min(0).optional(), maxDelayMs: z.number().int().min(0).optional() })
    .optional(),
  models: z.record(z.string().min(1), z.unknown()).optional(),
  tools: z.array(z.unknown()).optional(),
});

/** How long `close()` waits by default (`closeTimeoutMs`). */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;
