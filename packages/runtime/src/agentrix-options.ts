import type { CreateRedisBusOptions, RedisClientLike } from '@agentrix/bus';
import type { MessageBus } from '@agentrix/core';
import type { Gateway, GatewayOptions } from '@agentrix/gateway';
import type { DistillerOptions, Memory, MemoryOptions, WithMemoryOptions } from '@agentrix/memory';
import type { AgentrixTelemetry, TelemetryOptions } from '@agentrix/otel';
import type {
  ApprovalGate,
  ApprovalGateOptions,
  McpClientManagerOptions,
  McpServerOptions,
  Skill,
} from '@agentrix/skills';
import type { AgentrixStore, AgentrixStoreOptions } from '@agentrix/store';
import type { AgentManagerOptions } from './agent-manager-options.js';
import type { ShutdownOptions } from './shutdown.js';

/** MCP servers to start, with the client options of their `McpClientManager`. */
export interface AgentrixMcpOptions
  extends Pick<McpClientManagerOptions, 'clientInfo' | 'roots' | 'onElicitation' | 'random'> {
  /** Started (in parallel) before `createAgentrix` resolves; their tools are skills named `<server>__<tool>`. */
  servers: readonly McpServerOptions[];
}

/** Memory built on the store (`createMemory`), wrapped around every model (`withMemory`). */
export interface AgentrixMemoryOptions
  extends Omit<MemoryOptions, 'database' | 'model' | 'events' | 'clock' | 'generateId' | 'signal'> {
  /**
   * Writes episode summaries. Default: the gateway when there is one (summaries are then budgeted
   * and metered); otherwise none, and episodes are stored as plain text (a scripted or unmetered
   * model is never called behind the host's back).
   */
  model?: MemoryOptions['model'];
  /** How the prompt is assembled around the retrieved memories (`withMemory` options). */
  prompt?: WithMemoryOptions;
  /**
   * Distils each finished session into facts and summaries with a small model (`createDistiller`;
   * `withMemory` queues a pass after every turn): `true` for the defaults, or distiller options.
   * Its model is the gateway (tier `small`: budgeted and metered) unless `distill.model` is
   * given; without a gateway it must be. Closed by `close()`; `agentrix.distiller` runs
   * `distill(scope)` or `sweep()` on demand.
   */
  distill?: true | AgentrixDistillOptions;
}

/** `memory.distill` options: the distiller's, with its model optional (default: the gateway). */
export interface AgentrixDistillOptions extends Omit<DistillerOptions, 'memory' | 'model' | 'clock' | 'generateId'> {
  model?: DistillerOptions['model'];
}

/**
 * The one options object of `createAgentrix`: what the host has, the rest is wired. Everything
 * the host passes in (a bus, a store, a gateway, an approval gate, a memory) stays open after
 * `close()`; everything built from a URL or options is closed by it.
 */
export interface AgentrixOptions
  extends Omit<AgentManagerOptions, 'bus' | 'toolExecutor' | 'toolSource' | 'approvals'> {
  /**
   * An LLM gateway, or the options to build one (`createGateway`, on the store's budget store and
   * ledger when there is a store and the options name none). It becomes the `default` model, so
   * `model` and `models.default` must not be given with it.
   */
  gateway?: Gateway | GatewayOptions;
  /**
   * Where contexts, agent specs, idempotency records, budgets and the ledger persist: `'memory://'`
   * (PGlite in memory), a directory (PGlite on disk), a `postgres://` URL, `createAgentrixStore`
   * options, or an opened `AgentrixStore`. Default: none (everything in memory, nothing durable).
   * After a restart, `await agentrix.restore()` brings the recorded agents back.
   */
  store?: string | AgentrixStoreOptions | AgentrixStore;
  /**
   * The message bus: `'memory://'` (an `InMemoryBus`), `'store'` (the store's durable SQL bus), a
   * `redis://` / `rediss://` URL, an ioredis client or `createRedisBus` options (`RedisStreamsBus`),
   * or any `MessageBus`. Default: `'store'` when there is a store (messages are as durable as
   * contexts, and a restart redelivers what a crash interrupted), else `'memory://'`.
   */
  bus?: MessageBus | RedisClientLike | CreateRedisBusOptions | string;
  /** Skills (`defineSkill`) agents may list in `spec.tools`, run by the one executor like `tools`. */
  skills?: readonly Skill<any, any>[];
  /** MCP servers whose tools agents may list (`everything__*` allows every tool of `everything`). */
  mcp?: AgentrixMcpOptions;
  /**
   * Episodic and semantic memory: `true` for the defaults, options, or a `Memory` the host made
   * (left open). Built on the store's database, so it needs `store` unless a `Memory` is given.
   */
  memory?: true | AgentrixMemoryOptions | Memory;
  /**
   * Where `requiresApproval` calls wait (listed by `pendingApprovals()`, decided by `approve` /
   * `reject`): an `ApprovalGate` the host owns, or its options. Default: a new gate, 5 min timeout.
   */
  approvals?: ApprovalGate | ApprovalGateOptions;
  /**
   * OpenTelemetry traces and metrics (`@agentrix/otel`): `true` for the global providers the
   * host's SDK registered, options, or an `AgentrixTelemetry`. Spans per turn, model call, tool
   * call and bus delivery; trace context travels on messages. Default: none (nothing on the hot path).
   */
  telemetry?: boolean | TelemetryOptions | AgentrixTelemetry;
  /**
   * Graceful shutdown on SIGTERM / SIGINT (`true` for the defaults): take no new messages, let
   * running turns finish within `timeoutMs`, give back what is held, close. Default: no handler
   * (`agentrix.shutdown()` does the same when called).
   */
  shutdown?: boolean | ShutdownOptions;
}

/**
 * Every key `createAgentrix` takes. `satisfies` makes a new `AgentManagerOptions` field a type
 * error here until it is listed (or refused below).
 */
const MANAGER_KEYS = {
  models: true,
  model: true,
  tools: true,
  router: true,
  contextStore: true,
  registry: true,
  pool: true,
  maxConcurrentTurns: true,
  consumer: true,
  outageRetry: true,
  askTimeoutMs: true,
  budgetRetryMs: true,
  toolTimeoutMs: true,
  closeTimeoutMs: true,
  secrets: true,
  onTurnCommit: true,
  onForget: true,
  clock: true,
  generateId: true,
  events: true,
  logger: true,
} as const satisfies Record<
  Exclude<keyof AgentManagerOptions, 'bus' | 'toolExecutor' | 'toolSource' | 'approvals'>,
  true
>;

const COMPOSE_KEYS = [
  'gateway',
  'store',
  'bus',
  'skills',
  'mcp',
  'memory',
  'approvals',
  'telemetry',
  'shutdown',
] as const;

export const AGENTRIX_OPTION_KEYS: ReadonlySet<string> = new Set([...Object.keys(MANAGER_KEYS), ...COMPOSE_KEYS]);

/** Manager options that `createAgentrix` wires itself, with what to do instead. */
export const REFUSED_OPTION_KEYS: Readonly<Record<string, string>> = {
  toolExecutor:
    'createAgentrix runs every tool through its own SkillExecutor (agentrix.skills.executor): pass tools, skills or mcp instead, or build an AgentManager from parts',
  toolSource:
    'createAgentrix looks tools up in its own SkillRegistry (agentrix.skills.registry): pass tools, skills or mcp instead, or build an AgentManager from parts',
};
