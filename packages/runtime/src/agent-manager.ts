import { InMemoryBus } from '@agentrix/bus';
import {
  AddressSchema,
  type AgentRegistry,
  type AgentRegistryEntry,
  AgentrixError,
  type AgentrixEventMap,
  type AgentrixEventName,
  AgentrixEvents,
  type AgentSpec,
  type AgentSpecInput,
  AgentSpecSchema,
  type AgentState,
  abortError,
  type BroadcastInput,
  backoffDelay,
  type ChatModel,
  type Clock,
  type Delivery,
  type IdGenerator,
  type Logger,
  type MessageBus,
  type MessageEnvelope,
  parseWith,
  REPLY_INBOX_PREFIX,
  randomId,
  redactingLogger,
  type SendInput,
  type SerializedError,
  serializeError,
  silentLogger,
  sleep,
  systemClock,
  ThreadIdSchema,
  type ThreadInfo,
  type Tool,
} from '@agentrix/core';
import { matchesToolPattern } from '@agentrix/skills';
import { AgentFactory } from './agent-factory.js';
import {
  type AgentManagerOptions,
  AgentManagerOptionsSchema,
  DEFAULT_CLOSE_TIMEOUT_MS,
  type ForgetHook,
} from './agent-manager-options.js';
import { AgentPool } from './agent-pool.js';
import { type AgentRequest, AgentRuntime, type ReplyInput } from './agent-runtime.js';
import type { Approvals, PendingApproval } from './approvals.js';
import { askAgentTool } from './ask-agent-tool.js';
import { ContextManager } from './context-manager.js';
import { type Deadline, Deadlines } from './deadlines.js';
import { InMemoryAgentRegistry } from './in-memory-agent-registry.js';
import { InMemoryContextStore } from './in-memory-context-store.js';
import { LeaseKeeper } from './lease-keeper.js';
import { sendMessageTool } from './send-message-tool.js';
import { type PauseReason, recordedPause } from './turn-failure.js';

/** A snapshot of one agent, for the host. */
export interface AgentInfo {
  id: string;
  name: string;
  role: string | undefined;
  state: AgentState;
  parentId: string | undefined;
  children: string[];
  turns: number;
  lastError: SerializedError | undefined;
  /** Why a paused agent is paused (host, outage or budget), and when it tries again by itself. */
  pause: PauseReason | undefined;
  spec: AgentSpec;
}

export interface CreateAgentOptions {
  /** Start taking messages at once. Default true. */
  start?: boolean;
}

export interface AskOptions {
  /** Default: the manager's `askTimeoutMs` (60 s). Honoured whatever the bus does (an outage included). */
  timeoutMs?: number;
  /** The conversation to ask in (one context per thread). Default `main`. */
  threadId?: string;
  signal?: AbortSignal;
  data?: unknown;
  correlationId?: string;
}

export interface WaitForIdleOptions {
  /** Default 30 s; then a TIMEOUT error names the agents still busy. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface ManagedAgent {
  runtime: AgentRuntime;
  /** Created on the first child: most agents have none. */
  children: Set<string> | undefined;
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
  /** Where replies to this manager's asks arrive (one inbox per manager, read by one loop). */
  readonly #replyInbox: string;
  readonly #asks = new Map<string, PendingAsk>();
  readonly #replyReading = new AbortController();
  readonly #leases: LeaseKeeper;
  /** The deadlines of this manager's asks and of its agents' turns, on one timer. */
  readonly #deadlines: Deadlines;
  #replyLoop: Promise<void> | undefined;
  readonly #forgetHooks: readonly ForgetHook[];
  #closing: Promise<void> | undefined;

  constructor(options: AgentManagerOptions = {}) {
    parseWith(AgentManagerOptionsSchema, options, 'INVALID_ARGUMENT', 'agent manager options');
    this.#clock = options.clock ?? systemClock;
    this.#generateId = options.generateId ?? randomId;
    // Every log line passes through redaction: the host's secrets and URL credentials never reach it.
    this.#logger = options.logger ? redactingLogger(options.logger, options.secrets) : silentLogger;
    this.events = options.events ?? new AgentrixEvents();
    this.#consumer = options.consumer ?? `runtime-${this.#generateId()}`;
    this.#replyInbox = `${REPLY_INBOX_PREFIX}${this.#consumer}`;
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
      reply: (input) => this.#reply(input),
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
    const parent = spec.parentId === undefined ? undefined : this.#live(spec.parentId);
    const runtime = this.#factory.create(spec);
    for (const group of spec.groups) {
      await this.bus.createGroup(group);
      await this.bus.join(group, id);
    }
    const now = this.#clock.now();
    await this.registry.save({ spec, state: 'created', createdAt: now, updatedAt: now });
    this.#agents.set(id, { runtime, children: undefined });
    if (parent) {
      parent.children ??= new Set();
      parent.children.add(id);
    }
    if (this.events.has('agent.created')) this.events.emit('agent.created', { agentId: id, spec });
    if (options.start ?? true) runtime.start();
    return this.#info(id);
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
      if (parent) {
        parent.children ??= new Set();
        parent.children.add(id);
      }
    }
    for (const id of restored) {
      const { runtime } = this.#record(id);
      if (runtime.state === 'created') runtime.start();
    }
    return restored.map((id) => this.#info(id));
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
  async spawnChild(request: {
    parentId: string;
    instructions: string;
    tools?: readonly string[];
    name?: string;
    role?: string;
    task?: string;
  }): Promise<{ id: string }> {
    const parent = this.#live(request.parentId).runtime.spec;
    const tools = [...(request.tools ?? [])];
    const refused = tools.filter((tool) => !matchesToolPattern(parent.tools, tool));
    if (refused.length > 0) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `A child may only use tools its parent has; "${parent.id}" does not have: ${refused.join(', ')}`,
        { agentId: parent.id },
      );
    }
    const child = await this.create({
      parentId: parent.id,
      instructions: request.instructions,
      tools,
      model: parent.model,
      ...(parent.tier !== undefined ? { tier: parent.tier } : {}),
      ...(parent.scope !== undefined ? { scope: parent.scope } : {}),
      ...(request.name !== undefined ? { name: request.name } : {}),
      ...(request.role !== undefined ? { role: request.role } : {}),
    });
    if (request.task !== undefined) {
      await this.send({ to: child.id, from: parent.id, replyTo: parent.id, content: request.task });
    }
    return { id: child.id };
  }

  start(agentId: string): AgentInfo {
    this.#live(agentId).runtime.start();
    return this.#info(agentId);
  }

  pause(agentId: string): AgentInfo {
    this.#live(agentId).runtime.pause();
    return this.#info(agentId);
  }

  resume(agentId: string): AgentInfo {
    this.#live(agentId).runtime.resume();
    return this.#info(agentId);
  }

  /** Terminates the agent and, first, all its descendants. Pending messages stay in its inbox. */
  async terminate(agentId: string, reason = 'terminated by host'): Promise<void> {
    const record = this.#record(agentId);
    for (const child of record.children ?? []) {
      if (this.#agents.get(child)?.runtime.state !== 'terminated')
        await this.terminate(child, `parent ${agentId} terminated`);
    }
    await record.runtime.terminate(reason);
    for (const group of record.runtime.spec.groups) await this.bus.leave(group, agentId).catch(() => {});
  }

  get(agentId: string): AgentInfo {
    return this.#info(this.#validId(agentId));
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
      out.push(this.#info(id));
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
    if (local === undefined || local.runtime.state === 'terminated') await this.#reachable(input.to);
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

  /**
   * Request/reply over the bus, for the host's asks and agents' delegated asks: the request goes
   * out with `replyTo` this manager's reply inbox, and the reply (or error reply) is matched to
   * it by `inReplyTo` by one reader loop.
   */
  #request(request: AgentRequest): Promise<MessageEnvelope> {
    const local = this.#agents.get(request.to);
    if (local !== undefined && local.runtime.state !== 'terminated') return this.#sendRequest(request, local.runtime);
    return this.#reachable(request.to).then((target) => this.#sendRequest(request, target));
  }

  /** Sends a request to an agent that can answer it and returns the wait for its reply. */
  #sendRequest(request: AgentRequest, target: AgentRuntime | AgentRegistryEntry): Promise<MessageEnvelope> {
    try {
      refuseUnanswerable(target);
    } catch (error) {
      return Promise.reject(error);
    }
    const id = this.#generateId();
    const answer = this.#awaitReply(id, request);
    this.#replyLoop ??= this.#readReplies();
    // The answer settles the ask, whatever the send does meanwhile (an outage may hold it); a
    // send that fails settles it with its error.
    const message: SendInput = {
      id,
      from: request.from,
      to: request.to,
      replyTo: this.#replyInbox,
      content: request.content,
    };
    if (request.threadId !== undefined) message.threadId = request.threadId;
    if (request.data !== undefined) message.data = request.data;
    if (request.correlationId !== undefined) message.correlationId = request.correlationId;
    if (request.via !== undefined) message.via = request.via;
    if (request.scope !== undefined) message.scope = request.scope;
    const settleWith = (error: unknown) => this.#asks.get(id)?.settle(error, undefined);
    try {
      this.bus.send(message).catch(settleWith);
    } catch (error) {
      settleWith(error);
    }
    return answer;
  }

  /**
   * Sends an agent's reply (or error reply). One to an ask of this manager is handed to the ask
   * in process: through the bus it would only come back here (one bus round trip, a fifth of a
   * local ask: bench/runtime section 4). An ask that no longer waits drops it, as its reply
   * inbox would. It is still announced as `message.sent`.
   */
  #reply(input: ReplyInput): Promise<unknown> {
    if (input.to !== this.#replyInbox) return this.bus.send(input);
    // The runtime builds each reply afresh: it becomes the envelope itself (a copy was 3% of an ask).
    const envelope = input as MessageEnvelope;
    envelope.createdAt = this.#clock.now();
    if (this.events.has('message.sent')) this.events.emit('message.sent', { envelope });
    const pending = this.#asks.get(input.inReplyTo);
    if (pending !== undefined) {
      if (envelope.type === 'error') pending.settle(errorFromReply(envelope, pending.to), undefined);
      else pending.settle(undefined, envelope);
    }
    return Promise.resolve(envelope);
  }

  /**
   * A pending ask: settled by its reply, its deadline (whatever the bus does: the timer is ours),
   * its signal, or the manager's close. Its deadline is awaited, so it keeps the process alive.
   */
  #awaitReply(id: string, request: AgentRequest): Promise<MessageEnvelope> {
    return new Promise<MessageEnvelope>((resolve, reject) => {
      const pending = new PendingAsk(id, request, this.#asks, this.#deadlines, resolve, reject);
      this.#asks.set(id, pending);
      pending.watch();
    });
  }

  /** The one loop reading this manager's reply inbox; runs from the first ask until close. */
  async #readReplies(): Promise<void> {
    const inbox = this.#replyInbox;
    const { signal } = this.#replyReading;
    let failures = 0;
    while (!signal.aborted) {
      let deliveries: Delivery[];
      try {
        deliveries = await this.bus.read(inbox, { consumer: this.#consumer, max: 64, signal });
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        failures++;
        const delayMs = backoffDelay(failures, { baseDelayMs: 100, maxDelayMs: 5_000 });
        this.#logger.warn(
          { inbox, attempt: failures, delayMs, error: serializeError(error) },
          'reply inbox unreadable; retrying',
        );
        await sleep(delayMs, { clock: this.#clock, signal, background: true }).catch(() => {});
        continue;
      }
      for (const { envelope } of deliveries) {
        const pending = envelope.inReplyTo === undefined ? undefined : this.#asks.get(envelope.inReplyTo);
        if (pending === undefined) continue; // the ask timed out or was aborted: nobody waits
        if (envelope.type === 'error') pending.settle(errorFromReply(envelope, pending.to), undefined);
        else pending.settle(undefined, envelope);
      }
      // Not awaited: the next read need not wait for the ack (a reply is settled once either way).
      if (deliveries.length > 0) {
        this.bus
          .ack(
            inbox,
            deliveries.map((delivery) => delivery.deliveryId),
          )
          .catch((error: unknown) => this.#logger.warn({ inbox, error: serializeError(error) }, 'replies not acked'));
      }
    }
  }

  /**
   * An agent that may receive messages: one of this manager's (live), or one in the shared
   * registry hosted by another process. AGENT_NOT_FOUND / AGENT_TERMINATED otherwise.
   */
  async #reachable(agentId: string): Promise<AgentRuntime | AgentRegistryEntry> {
    const local = this.#agents.get(this.#validId(agentId));
    if (local !== undefined) return this.#live(agentId).runtime;
    const entry = await this.registry.load(agentId);
    if (entry === undefined) {
      throw new AgentrixError(
        'AGENT_NOT_FOUND',
        `No agent with id "${agentId}" here (known: ${this.#knownIds()}) nor in the registry; create it first`,
        { agentId },
      );
    }
    if (entry.state === 'terminated') {
      throw new AgentrixError('AGENT_TERMINATED', `Agent "${agentId}" is terminated and takes no more messages`, {
        agentId,
      });
    }
    return entry;
  }

  /** The conversations of an agent (this manager's or another process's), most recent first. */
  async threads(agentId: string, options: { limit?: number } = {}): Promise<ThreadInfo[]> {
    this.#assertOpen();
    if (!this.#agents.has(this.#validId(agentId))) await this.#reachable(agentId);
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
    const local = this.#agents.get(this.#validId(agentId));
    if (local === undefined) await this.#reachable(agentId);
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
  async waitForIdle(options: WaitForIdleOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const { signal } = options;
    // Subscribe before the first check, so a change during an (async) check is never missed.
    let changes = 0;
    let wake: (() => void) | undefined;
    const onChange = () => {
      changes++;
      wake?.();
    };
    this.events.on('agent.state', onChange);
    signal?.addEventListener('abort', onChange);
    let timedOut = false;
    const timer = this.#clock.setTimeout(() => {
      timedOut = true;
      wake?.();
    }, timeoutMs);
    try {
      for (;;) {
        const seen = changes;
        let busy = await this.#busyAgents();
        if (busy.length === 0) {
          // Let work that was just scheduled show itself before declaring calm.
          await new Promise<void>((resolve) => setImmediate(resolve));
          busy = await this.#busyAgents();
          if (busy.length === 0) return;
        }
        if (signal?.aborted) throw signal.reason;
        if (timedOut) throw new AgentrixError('TIMEOUT', `Agents still busy after ${timeoutMs} ms: ${busy.join(', ')}`);
        if (changes === seen) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      }
    } finally {
      this.#clock.clearTimeout(timer);
      this.events.off('agent.state', onChange);
      signal?.removeEventListener('abort', onChange);
    }
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
      this.#replyReading.abort();
      const closed = new AgentrixError('CLOSED', 'The agent manager closed while waiting for a reply');
      for (const waiting of [...this.#asks.values()]) waiting.settle(closed, undefined);
      if (this.#replyLoop !== undefined) {
        await within(this.#replyLoop.then(() => this.bus.deleteInbox(this.#replyInbox)).catch(() => {}));
      }
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

  async #busyAgents(): Promise<string[]> {
    const busy: string[] = [];
    for (const [id, { runtime }] of this.#agents) {
      if (runtime.state === 'running') busy.push(id);
      else if (runtime.state === 'idle') {
        const stats = await this.bus.stats(id);
        if (stats.unread + stats.inFlight > 0) busy.push(id);
      }
    }
    return busy;
  }

  #assertOpen(): void {
    if (this.#closing) throw new AgentrixError('CLOSED', 'This agent manager is closed');
  }

  #validId(agentId: string): string {
    // An agent of this manager's has a valid id (a parse costs more than the rest of the lookup).
    if (!this.#agents.has(agentId) && !AddressSchema.safeParse(agentId).success) {
      throw new AgentrixError(
        'INVALID_ARGUMENT',
        `Invalid agent id ${JSON.stringify(agentId)}: expected 1-128 letters, digits, "_", ".", ":" or "-"`,
      );
    }
    return agentId;
  }

  #record(agentId: string): ManagedAgent {
    const record = this.#agents.get(this.#validId(agentId));
    if (!record) {
      throw new AgentrixError(
        'AGENT_NOT_FOUND',
        `No agent with id "${agentId}"; create it first (known: ${this.#knownIds()})`,
        {
          agentId,
        },
      );
    }
    return record;
  }

  #live(agentId: string): ManagedAgent {
    const record = this.#record(agentId);
    if (record.runtime.state === 'terminated') {
      throw new AgentrixError(
        'AGENT_TERMINATED',
        `Agent "${agentId}" is terminated and takes no more messages or commands`,
        {
          agentId,
        },
      );
    }
    return record;
  }

  #knownIds(): string {
    const ids = [...this.#agents.keys()];
    if (ids.length === 0) return 'none';
    return ids.length > 10 ? `${ids.slice(0, 10).join(', ')}, ...` : ids.join(', ');
  }

  #info(agentId: string): AgentInfo {
    const { runtime, children } = this.#record(agentId);
    return {
      id: runtime.id,
      name: runtime.spec.name,
      role: runtime.spec.role,
      state: runtime.state,
      parentId: runtime.spec.parentId,
      children: children ? [...children] : [],
      turns: runtime.turns,
      lastError: runtime.lastError,
      pause: runtime.pauseReason,
      spec: runtime.spec,
    };
  }
}

function checkAskOptions(options: AskOptions): void {
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `Invalid ask timeoutMs ${String(timeoutMs)}: expected a positive number of milliseconds (or leave it out for the manager's askTimeoutMs)`,
    );
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new AgentrixError('INVALID_ARGUMENT', 'Invalid ask signal: expected an AbortSignal');
  }
  if (options.threadId !== undefined) checkThreadId(options.threadId);
}

/** An agent that cannot answer: the asker learns why at once instead of waiting for its timeout. */
function refuseUnanswerable(target: AgentRuntime | AgentRegistryEntry): void {
  const local = target instanceof AgentRuntime;
  const id = local ? target.id : target.spec.id;
  const { state, lastError: last } = target;
  if (state === 'error') {
    throw new AgentrixError(
      'AGENT_FAILED',
      `Agent "${id}" stopped on an error${last ? ` (${last.code ?? last.name}: ${last.message})` : ''} and takes no work until resume()`,
      { agentId: id, details: last ? { lastError: last } : {} },
    );
  }
  if (state !== 'paused') return;
  // A remote agent's pause is known by the error it was recorded with.
  const pause = local ? target.pauseReason : recordedPause(last);
  if (pause?.kind === 'host') {
    throw new AgentrixError('AGENT_PAUSED', `Agent "${id}" is paused; resume() it to ask it anything`, {
      agentId: id,
    });
  }
  if (pause?.kind === 'budget') {
    throw new AgentrixError(
      'BUDGET_EXCEEDED',
      `Agent "${id}" is paused because its budget is spent${pause.error ? ` (${pause.error.message})` : ''}; it tries again by itself${pause.resumesAt !== undefined ? ` at ${new Date(pause.resumesAt).toISOString()}` : ''}`,
      {
        agentId: id,
        retryable: false,
        details: { ...(pause.error ? { error: pause.error } : {}), resumesAt: pause.resumesAt },
      },
    );
  }
}

/** The error an `error` reply carries, as the asker's AgentrixError (its code kept). */
function errorFromReply(envelope: MessageEnvelope, agentId: string): AgentrixError {
  const error = (envelope.data as { error?: SerializedError } | undefined)?.error;
  return new AgentrixError(
    (error?.code ?? 'INTERNAL') as AgentrixError['code'],
    `Agent "${agentId}" failed to answer: ${error?.message ?? envelope.content}`,
    { agentId, ...(error?.retryable !== undefined ? { retryable: error.retryable } : {}), details: { error } },
  );
}

function checkThreadId(threadId: unknown): void {
  if (!ThreadIdSchema.safeParse(threadId).success) {
    throw new AgentrixError(
      'INVALID_ARGUMENT',
      `Invalid thread id ${JSON.stringify(threadId)}: expected 1-200 letters, digits, "_", ".", ":", "@" or "-"`,
    );
  }
}

/**
 * An ask waiting for its reply: one object (no closures but its deadline's and, with a signal,
 * its abort listener), removed from `asks` when settled.
 */
class PendingAsk {
  readonly to: string;
  readonly #id: string;
  readonly #asks: Map<string, PendingAsk>;
  readonly #deadlines: Deadlines;
  readonly #resolve: (reply: MessageEnvelope) => void;
  readonly #reject: (error: unknown) => void;
  readonly #signal: AbortSignal | undefined;
  readonly #timeoutMs: number;
  #deadline: Deadline | undefined;
  #onAbort: (() => void) | undefined;

  constructor(
    id: string,
    request: AgentRequest,
    asks: Map<string, PendingAsk>,
    deadlines: Deadlines,
    resolve: (reply: MessageEnvelope) => void,
    reject: (error: unknown) => void,
  ) {
    this.to = request.to;
    this.#id = id;
    this.#asks = asks;
    this.#deadlines = deadlines;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = request.signal;
    this.#timeoutMs = request.timeoutMs;
  }

  /** Starts the deadline and follows the signal. */
  watch(): void {
    const to = this.to;
    this.#deadline = this.#deadlines.add(this.#timeoutMs, () =>
      this.settle(
        new AgentrixError('TIMEOUT', `Agent "${to}" did not reply within ${this.#timeoutMs} ms`, { agentId: to }),
        undefined,
      ),
    );
    const signal = this.#signal;
    if (signal === undefined) return;
    this.#onAbort = () => this.settle(abortError(signal, `ask to "${to}"`), undefined);
    if (signal.aborted) this.#onAbort();
    else signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  settle(error: unknown, reply: MessageEnvelope | undefined): void {
    if (!this.#asks.delete(this.#id)) return;
    if (this.#deadline !== undefined) this.#deadlines.cancel(this.#deadline);
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener('abort', this.#onAbort);
    if (reply !== undefined) this.#resolve(reply);
    else this.#reject(error);
  }
}
