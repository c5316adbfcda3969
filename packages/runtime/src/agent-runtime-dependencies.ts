// What every agent of a manager shares (the factory wires it once), and its requests and replies.
import type {
  AgentRegistry,
  AgentrixEvents,
  AgentSpec,
  ChatModel,
  Clock,
  IdGenerator,
  Logger,
  MessageBus,
  MessageEnvelope,
  RetryPolicy,
  SendInput,
  TurnCommitHook,
} from '@agentrix/core';
import type { AgentPool } from './agent-pool.js';
import type { ContextManager } from './context-manager.js';
import type { Deadlines } from './deadlines.js';
import type { LeaseKeeper } from './lease-keeper.js';
import type { ToolExecutor } from './tool-execution.js';
import type { ToolSet } from './tool-set.js';
import type { TurnRouter } from './turn-router.js';

/** A request from one agent to another (or from the host), answered by a reply envelope. */
export interface AgentRequest {
  from: string;
  to: string;
  content: string;
  data?: unknown;
  threadId?: string;
  correlationId?: string;
  /** The delegation path (see `MessageEnvelope.via`). */
  via?: string[];
  /** The budget scope handed on (see `MessageEnvelope.scope`). */
  scope?: MessageEnvelope['scope'];
  timeoutMs: number;
  signal?: AbortSignal;
}

/** What every agent of a manager shares: one object for all of them (the factory wires it). */
export interface AgentRuntimeDependencies {
  bus: MessageBus;
  contexts: ContextManager;
  pool: AgentPool;
  clock: Clock;
  events: AgentrixEvents;
  generateId: IdGenerator;
  logger: Logger;
  /** The bus consumer name of this process. */
  consumer: string;
  /** Keeps the leases of deliveries waiting or running (one timer for the manager). */
  leases: LeaseKeeper;
  /** The turns' deadlines (one timer for the manager, shared with its asks). */
  deadlines: Deadlines;
  /** Sends on behalf of agents (the manager checks that the recipient exists). */
  send: MessageBus['send'];
  /**
   * Sends a reply or an error reply; nothing to wait for when the manager handed it to one of its
   * own asks in process. `now`: the clock read a moment ago by the turn (its context's save uses
   * it too), the reply's `createdAt` when handed over in process.
   */
  reply: (input: ReplyInput, now?: number) => Promise<unknown> | undefined;
  /** Asks another agent and waits for its reply (the manager's request/reply over the bus). */
  ask: (request: AgentRequest) => Promise<MessageEnvelope>;
  /** Where lasting states (not the idle/running flips of each turn) are recorded. */
  registry: AgentRegistry;
  /** Runs each step's tool calls. Default: the built-in sequential loop. */
  toolExecutor?: ToolExecutor;
  /** Narrows each turn's tools before the first model call. */
  router?: TurnRouter;
  /** Backoff while the bus or the store is unavailable (the agent waits or pauses, then retries). */
  outageRetry: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>;
  /** How often an agent paused on a spent budget tries its held message again. */
  budgetRetryMs: number;
  /** Deadline of a tool call that sets none (`DEFAULT_TOOL_TIMEOUT_MS` by default). */
  toolTimeoutMs?: number;
  /** Host secrets: removed from tool errors, events, stored errors and logs. */
  secrets?: readonly string[];
  /** Run after a turn's reply is sent, before its context is saved and its message acked. */
  commitHooks: readonly TurnCommitHook[];
}

/** A reply as the runtime sends it: to the asker, answering a message, with an id of its own. */
export type ReplyInput = SendInput & { id: string; type: 'reply' | 'error'; inReplyTo: string };

/** What one agent is: its spec and the model and tools the spec names. */
export interface AgentRuntimeParts {
  spec: AgentSpec;
  model: ChatModel;
  tools: ToolSet;
}
