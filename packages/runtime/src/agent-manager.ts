// The agent manager: creates, restores and runs agents, and is the host's entry point to them.
import { InMemoryBus } from '@agentrix/bus';
import {
  type AgentRegistry,
  AgentrixError,
  type AgentrixEventMap,
  type AgentrixEventName,
  AgentrixEvents,
  type AgentSpec,
  type AgentSpecInput,
  AgentSpecSchema,
  type AgentState,
  type BroadcastInput,
  type ChatModel,
  type Clock,
  type IdGenerator,
  type Logger,
  type MessageBus,
  type MessageEnvelope,
  parseWith,
  redactingLogger,
  type SendInput,
  serializeError,
  silentLogger,
  systemClock,
  type ThreadInfo,
  type Tool,
} from '@agentrix/core';
import { AgentFactory } from './agent-factory.js';
import {
  type AgentManagerOptions,
  AgentManagerOptionsSchema,
  DEFAULT_CLOSE_TIMEOUT_MS,
  type ForgetHook,
} from './agent-manager-options.js';
import { AgentPool } from './agent-pool.js';
import type { AgentRequest } from './agent-runtime-dependencies.js';
import type { Approvals, PendingApproval } from './approvals.js';
import { askAgentTool } from './ask-agent-tool.js';
import { type AskOptions, checkAskOptions, checkThreadId } from './ask-options.js';
import { childSpec, type SpawnChildRequest } from './child-spec.js';
import { ContextManager } from './context-manager.js';
import { Deadlines } from './deadlines.js';
import { InMemoryAgentRegistry } from './in-memory-agent-registry.js';
import { InMemoryContextStore } from './in-memory-context-store.js';
import { LeaseKeeper } from './lease-keeper.js';
import {
  type AgentInfo,
  adoptChild,
  agentInfo,
  liveAgent,
  type ManagedAgent,
  managedAgent,
  reachableAgent,
  validAgentId,
} from './managed-agents.js';
import { RequestReply } from './request-reply.js';
import { sendMessageTool } from './send-message-tool.js';
import { createUniqueIds } from './unique-ids.js';
import { type WaitForIdleOptions, waitForIdle } from './wait-for-idle.js';

export interface CreateAgentOptions {
  /** Start taking messages at once. Default true. */
  start?: boolean;
}

/**
 * Creates agents from validated specs and runs them: start, pause, resume, terminate,
 * spawn children (terminated with their parent), send them messages, ask and wait for a
 * reply, wait until everything is idle, and `close()` it all.
 */
export class AgentManager implements AsyncDisposable {
  readonly bus: MessageBus;
  readonly events: AgentrixEvents;
  readonly pool: AgentPool;
  readonly contexts: ContextManager;
  readonly registry: AgentRegistry;
  readonly #clock: Clock;
  readonly #generateId: IdGenerator;
  readonly #logger: Logger;
  readonly #consumer: string;
  readonly #askTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #ownsBus: boolean;
  readonly #models = new Map<string, ChatModel>();
  readonly #tools = new Map<string, Tool<any, unknown>>();
  readonly #agents = new Map<string, ManagedAgent>();
  readonly #factory: AgentFactory;
  readonly #approvals: Approvals | undefined;
  readonly #requests: RequestReply;
  readonly #leases: LeaseKeeper;
  /** The deadlines of this manager's asks and of its agents' turns, on one timer. */
  readonly #deadlines: Deadlines;
  readonly #forgetHooks: readonly ForgetHook[];
  #closing: Promise<void> | undefined;

  constructor(options: AgentManagerOptions = {}) {
    parseWith(AgentManagerOptionsSchema, options, 'INVALID_ARGUMENT', 'agent manager options');
    this.#clock = options.clock ?? systemClock;
    // Ask, turn and message ids: unique across processes, without a random UUID each (see createUniqueIds).
    this.#generateId = options.generateId ?? createUniqueIds();
    // Every log line passes through redaction: the host's secrets and URL credentials never reach it.
    this.#logger = options.logger ? redactingLogger(options.logger, options.secrets) : silentLogger;
    this.events = options.events ?? new AgentrixEvents();
    this.#consumer = options.consumer ?? `runtime-${this.#generateId()}`;
    this.#forgetHooks = options.onForget === undefined ? [] : [options.onForget].flat();
    this.#askTimeoutMs = options.askTimeoutMs ?? 60_000;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.#ownsBus = options.bus === undefined;
    this.bus =
      options.bus ??
      new InMemoryBus({
        clock: this.#clock,
        generateId: this.#generateId,
        events: this.events,
        consumer: this.#consumer,
        logger: this.#logger,
      });
    this.#deadlines = new Deadlines(this.#clock);
    this.#requests = new RequestReply({
      bus: this.bus,
      clock: this.#clock,
      events: this.events,
      generateId: this.#generateId,
      logger: this.#logger,
      consumer: this.#consumer,
      deadlines: this.#deadlines,
    });
    this.#leases = new LeaseKeeper(this.bus, this.#clock, this.#consumer, (error, lease) =>
      this.#logger.warn(
        { agentId: lease.inbox, deliveryId: lease.deliveryId, error: serializeError(error) },
        'lease not extended',
      ),
    );
    this.pool =
      options.pool ??
      new AgentPool(options.maxConcurrentTurns === undefined ? {} : { maxConcurrentTurns: options.maxConcurrentTurns });
    this.contexts = new ContextManager(options.contextStore ?? new InMemoryContextStore(), this.#clock);
    this.registry = options.registry ?? new InMemoryAgentRegistry(this.#clock);
    this.#approvals = options.approvals;
    if (options.model) this.#models.set('default', options.model);
    for (const [name, model] of Object.entries(options.models ?? {})) this.registerModel(name, model);
    this.#tools.set(sendMessageTool.name, sendMessageTool as Tool<any, unknown>);
    this.#tools.set(askAgentTool.name, askAgentTool as Tool<any, unknown>);
    for (const tool of options.tools ?? []) this.registerTool(tool);
    this.#factory = new AgentFactory({
      models: this.#models,
      tools: this.#tools,
      ...(options.toolSource ? { toolSource: options.toolSource } : {}),
      ...(options.toolExecutor ? { toolExecutor: options.toolExecutor } : {}),
      ...(options.router ? { router: options.router } : {}),
      outageRetry: {
        baseDelayMs: options.outageRetry?.baseDelayMs ?? 500,
        maxDelayMs: options.outageRetry?.maxDelayMs ?? 30_000,
      },
      budgetRetryMs: options.budgetRetryMs ?? 60_000,
      commitHooks: options.onTurnCommit === undefined ? [] : [options.onTurnCommit].flat(),
      ...(options.toolTimeoutMs !== undefined ? { toolTimeoutMs: options.toolTimeoutMs } : {}),
      ...(options.secrets !== undefined ? { secrets: options.secrets } : {}),
      bus: this.bus,
      contexts: this.contexts,
      pool: this.pool,
      clock: this.#clock,
      events: this.events,
      generateId: this.#generateId,
      logger: this.#logger,
      consumer: this.#consumer,
      send: (input) => this.send(input),
      reply: (input, now) => this.#requests.reply(input, now),
      ask: (request) => this.#request(request),
      leases: this.#leases,
      deadlines: this.#deadlines,
      registry: this.registry,
    });
  }

  /** Listens to the one event stream (runtime events, and those of every package wired to `events`). */
  on<K extends AgentrixEventName>(name: K, listener: (event: AgentrixEventMap[K]) => void): this {
    this.events.on(name, listener as never);
    return this;
  }

  /** Stops a listener added with {@link on}. */
  off<K extends AgentrixEventName>(name: K, listener: (event: AgentrixEventMap[K]) => void): this {
    this.events.off(name, listener as never);
    return this;
  }

  registerModel(name: string, model: ChatModel): void {
    if (!name || typeof model?.generate !== 'function' || typeof model.stream !== 'function') {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `Invalid model "${name}": expected a name and a ChatModel with generate() and stream()`,
      );
    }
    this.#models.set(name, model);
  }

  registerTool(tool: Tool<any, any>): void {
    if (this.#tools.has(tool.name) && this.#tools.get(tool.name) !== tool) {
      throw new AgentrixError(
        'TOOL_EXISTS',
        `A tool named "${tool.name}" is already registered; tool names must be unique`,
        {
          toolName: tool.name,
        },
      );
    }
    this.#tools.set(tool.name, tool as Tool<any, unknown>);
    this.#factory?.clearCache();
  }

  /** Validates the spec, creates the agent and (by default) starts it. */
  async create(input: AgentSpecInput, options: CreateAgentOptions = {}): Promise<AgentInfo> {
    this.#assertOpen();
    const parsed = parseWith(AgentSpecSchema, input, 'INVALID_AGENT_SPEC', 'agent spec');
    const id = parsed.id ?? this.#generateId();
    // Object.assign keeps the parsed object's shape; a spread copy gives each spec its own hidden class.
    const spec: AgentSpec = Object.assign(parsed, { id, name: parsed.name ?? id });
    if (this.#agents.has(id)) {
      throw new AgentrixError('AGENT_EXISTS', `An agent with id "${id}" already exists; pick another id or omit it`, {
        agentId: id,
      });
    }
    const parent = spec.parentId === undefined ? undefined : liveAgent(this.#agents, spec.parentId);
    const runtime = this.#factory.create(spec);
    for (const group of spec.groups) {
      await this.bus.createGroup(group);
      await this.bus.join(group, id);
    }
    const now = this.#clock.now();
    await this.registry.save({ spec, state: 'created', createdAt: now, updatedAt: now });
    this.#agents.set(id, { runtime, children: undefined });
    if (parent) adoptChild(parent, id);
    if (this.events.has('agent.created')) this.events.emit('agent.created', { agentId: id, spec });
    if (options.start ?? true) runtime.start();
    return agentInfo(this.#agents, id);
  }

  /**
   * Brings back every agent in the registry that this manager does not hold yet, in its
   * recorded state: idle agents start reading (an interrupted turn's message is redelivered
   * by the bus), paused and errored ones wait for `resume`, terminated ones stay terminated.
   * Call it once at start-up, after registering models and tools.
   */
  async restore(): Promise<AgentInfo[]> {
    this.#assertOpen();
    const restored: string[] = [];
    for (const entry of await this.registry.list()) {
      const { spec } = entry;
      if (this.#agents.has(spec.id)) continue;
      const state = entry.state === 'running' ? 'idle' : entry.state;
      const runtime = this.#factory.create(spec, state === 'idle' ? 'created' : state, entry.lastError);
      this.#agents.set(spec.id, { runtime, children: undefined });
      restored.push(spec.id);
    }
    for (const [id, { runtime }] of this.#agents) {
      const parentId = runtime.spec.parentId;
      const parent = parentId === undefined ? undefined : this.#agents.get(parentId);
      if (parent) adoptChild(parent, id);
    }
    for (const id of restored) {
      const { runtime } = managedAgent(this.#agents, id);
      if (runtime.state === 'created') runtime.start();
    }
    return restored.map((id) => agentInfo(this.#agents, id));
  }

  /** Creates a child of `parentId`; it is terminated when its parent is. */
  spawn(parentId: string, input: AgentSpecInput, options?: CreateAgentOptions): Promise<AgentInfo> {
    return this.create({ ...input, parentId }, options);
  }

  /**
   * Creates a child on behalf of an agent (the `spawn_agent` skill of `@agentrix/skills` calls
   * this): the child gets the parent's model, tier and scope, and only tools the parent has;
   * `task`, when given, is its first message, with the reply going to the parent.
   */
  async spawnChild(request: SpawnChildRequest): Promise<{ id: string }> {
    const parent = liveAgent(this.#agents, request.parentId).runtime.spec;
    const child = await this.create(childSpec(parent, request));
    if (request.task !== undefined) {
      await this.send({ to: child.id, from: parent.id, replyTo: parent.id, content: request.task });
    }
    return { id: child.id };
  }

  start(agentId: string): AgentInfo {
    liveAgent(this.#agents, agentId).runtime.start();
    return agentInfo(this.#agents, agentId);
  }

  pause(agentId: string): AgentInfo {
    liveAgent(this.#agents, agentId).runtime.pause();
    return agentInfo(this.#agents, agentId);
  }

  resume(agentId: string): AgentInfo {
    liveAgent(this.#agents, agentId).runtime.resume();
    return agentInfo(this.#agents, agentId);
  }

  /** Terminates the agent and, first, all its descendants. Pending messages stay in its inbox. */
  async terminate(agentId: string, reason = 'terminated by host'): Promise<void> {
    const record = managedAgent(this.#agents, agentId);
    for (const child of record.children ?? []) {
      if (this.#agents.get(child)?.runtime.state !== 'terminated')
        await this.terminate(child, `parent ${agentId} terminated`);
    }
    await record.runtime.terminate(reason);
    for (const group of record.runtime.spec.groups) await this.bus.leave(group, agentId).catch(() => {});
  }

  get(agentId: string): AgentInfo {
    return agentInfo(this.#agents, validAgentId(this.#agents, agentId));
  }

  has(agentId: string): boolean {
    return this.#agents.has(agentId);
  }

  list(filter: { state?: AgentState; role?: string; parentId?: string } = {}): AgentInfo[] {
    const out: AgentInfo[] = [];
    for (const [id, { runtime }] of this.#agents) {
      if (filter.state !== undefined && runtime.state !== filter.state) continue;
      if (filter.role !== undefined && runtime.spec.role !== filter.role) continue;
      if (filter.parentId !== undefined && runtime.spec.parentId !== filter.parentId) continue;
      out.push(agentInfo(this.#agents, id));
    }
    return out;
  }

  /**
   * Sends a message to an agent (from `host` unless `from` is given): one of this manager's, or
   * one hosted by another process that shares the registry (a durable store).
   */
  async send(input: Omit<SendInput, 'from'> & { from?: string }): Promise<MessageEnvelope> {
    this.#assertOpen();
    if (input.threadId !== undefined) checkThreadId(input.threadId);
    const local = this.#agents.get(input.to);
    if (local === undefined || local.runtime.state === 'terminated')
      await reachableAgent(this.#agents, this.registry, input.to);
    return this.bus.send({ ...input, from: input.from ?? 'host' } as SendInput);
  }

  /** Sends a copy to every member of a group. */
  async broadcast(input: Omit<BroadcastInput, 'from'> & { from?: string }): Promise<MessageEnvelope[]> {
    this.#assertOpen();
    return this.bus.broadcast({ ...input, from: input.from ?? 'host' } as BroadcastInput);
  }

  /**
   * Sends `content` to an agent and resolves with its reply, over the bus: the agent may live in
   * this process or in another one that shares the bus and the registry. Rejects at once when the
   * agent cannot answer: `AGENT_PAUSED` (paused by the host), `BUDGET_EXCEEDED` (paused on a spent
   * budget), `AGENT_FAILED` (stopped on an error, waiting for `resume()`); with the agent's error
   * when its turn fails for good (an `error` reply: any process, at once); with `TIMEOUT` after
   * `timeoutMs` whatever the bus does.
   */
  ask(agentId: string, content: string, options: AskOptions = {}): Promise<MessageEnvelope> {
    // Not `async` (nor is `#request` on a local agent): an async function that returns the answer's
    // promise costs a resolve job and its garbage more per ask (bench/runtime section 4).
    try {
      this.#assertOpen();
      checkAskOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    // Built field by field: conditional spreads made a throwaway object each (bench/runtime section 4).
    const request: AgentRequest = {
      from: 'host',
      to: agentId,
      content,
      timeoutMs: options.timeoutMs ?? this.#askTimeoutMs,
    };
    if (options.threadId !== undefined) request.threadId = options.threadId;
    if (options.data !== undefined) request.data = options.data;
    if (options.correlationId !== undefined) request.correlationId = options.correlationId;
    if (options.signal !== undefined) request.signal = options.signal;
    return this.#request(request);
  }

  /** The host's asks and agents' delegated asks, to an agent here or in another process. */
  #request(request: AgentRequest): Promise<MessageEnvelope> {
    const local = this.#agents.get(request.to);
    if (local !== undefined && local.runtime.state !== 'terminated') return this.#requests.send(request, local.runtime);
    return reachableAgent(this.#agents, this.registry, request.to).then((target) =>
      this.#requests.send(request, target),
    );
  }

  /** The conversations of an agent (this manager's or another process's), most recent first. */
  async threads(agentId: string, options: { limit?: number } = {}): Promise<ThreadInfo[]> {
    this.#assertOpen();
    if (!this.#agents.has(validAgentId(this.#agents, agentId)))
      await reachableAgent(this.#agents, this.registry, agentId);
    return this.contexts.store.threads(agentId, options);
  }

  /**
   * Forgets a conversation: deletes its context (after its running turn, if one runs) and runs
   * the `onForget` hooks (memory forgets the thread's episodes). The next message in that thread
   * starts afresh. THREAD_NOT_FOUND when the agent has no such thread.
   */
  async forget(agentId: string, threadId: string): Promise<void> {
    this.#assertOpen();
    checkThreadId(threadId);
    const local = this.#agents.get(validAgentId(this.#agents, agentId));
    if (local === undefined) await reachableAgent(this.#agents, this.registry, agentId);
    else await local.runtime.threadSettled(threadId);
    const deleted = await this.contexts.store.delete(agentId, threadId);
    if (deleted === 0) {
      throw new AgentrixError(
        'THREAD_NOT_FOUND',
        `Agent "${agentId}" has no thread "${threadId}" (list them with threads("${agentId}"))`,
        { agentId, details: { threadId } },
      );
    }
    for (const hook of this.#forgetHooks) await hook(agentId, threadId);
  }

  /** Skill calls waiting for a human's decision (all agents, or one). */
  pendingApprovals(agentId?: string): PendingApproval[] {
    return this.#requireApprovals().pending(agentId);
  }

  /** Lets a waiting skill call run. */
  approve(requestId: string, options?: { by?: string }): void {
    this.#requireApprovals().approve(requestId, options);
  }

  /** Refuses a waiting skill call; the model gets the refusal as the tool's error. */
  reject(requestId: string, reason?: string, options?: { by?: string }): void {
    this.#requireApprovals().reject(requestId, reason, options);
  }

  #requireApprovals(): Approvals {
    if (!this.#approvals) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        "No approval gate is configured: pass `approvals` (e.g. a SkillExecutor's approvals) to the manager",
      );
    }
    return this.#approvals;
  }

  /**
   * Resolves when no agent is running and no idle agent has a message waiting or in flight.
   * Paused, errored and terminated agents count as settled.
   */
  waitForIdle(options: WaitForIdleOptions = {}): Promise<void> {
    return waitForIdle(this.#agents, { bus: this.bus, events: this.events, clock: this.#clock }, options);
  }

  /**
   * Stops every agent loop (a running turn is aborted and its message given back) and closes what
   * the manager opened. Bounded: after `timeoutMs` (default the manager's `closeTimeoutMs`, 5 s)
   * it stops waiting for agents that do not stop (a bus that does not answer, say), logs them,
   * and releases the rest. Idempotent: a second call returns the same promise.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= (async () => {
      const timeoutMs = options.timeoutMs ?? this.#closeTimeoutMs;
      // One deadline for the whole close: a ref'd timer (close is awaited), cleared at the end.
      let timer: unknown;
      const deadline = new Promise<'deadline'>((resolve) => {
        timer = this.#clock.setTimeout(() => resolve('deadline'), timeoutMs);
      });
      const within = (work: Promise<unknown>) => Promise.race([work.then(() => 'done' as const), deadline]);
      const pending = new Set<string>();
      const stops = Promise.allSettled(
        [...this.#agents.entries()].map(async ([id, { runtime }]) => {
          pending.add(id);
          try {
            await runtime.stop();
            await runtime.flushState();
          } catch (error) {
            this.#logger.error({ agentId: id, error: serializeError(error) }, 'agent stop failed');
          } finally {
            pending.delete(id);
          }
        }),
      );
      const stopped = await within(stops);
      this.#leases.close();
      if (stopped === 'deadline' && pending.size > 0) {
        this.#logger.warn(
          { agents: [...pending].slice(0, 20), count: pending.size, timeoutMs },
          'close: agents did not stop in time; releasing them',
        );
      }
      await within(this.#requests.close());
      if (this.#ownsBus && (await within(this.bus.close().catch(() => {}))) === 'deadline') {
        this.#logger.warn({ timeoutMs }, 'close: the bus did not close in time');
      }
      this.#clock.clearTimeout(timer);
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #assertOpen(): void {
    if (this.#closing) throw new AgentrixError('CLOSED', 'This agent manager is closed');
  }
}
