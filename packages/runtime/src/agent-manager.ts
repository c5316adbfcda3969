import { InMemoryBus } from '@agentrix/bus';
import {
  AddressSchema,
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
  randomId,
  redactingLogger,
  type SendInput,
  type SerializedError,
  serializeError,
  silentLogger,
  systemClock,
  type Tool,
  untilAborted,
} from '@agentrix/core';
import { AgentFactory } from './agent-factory.js';
import { type AgentManagerOptions, AgentManagerOptionsSchema } from './agent-manager-options.js';
import { AgentPool } from './agent-pool.js';
import type { AgentRuntime, PauseReason } from './agent-runtime.js';
import type { Approvals, PendingApproval } from './approvals.js';
import { ContextManager } from './context-manager.js';
import { InMemoryAgentRegistry } from './in-memory-agent-registry.js';
import { InMemoryContextStore } from './in-memory-context-store.js';
import { sendMessageTool } from './send-message-tool.js';

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
  #closing: Promise<void> | undefined;

  constructor(options: AgentManagerOptions = {}) {
    parseWith(AgentManagerOptionsSchema, options, 'INVALID_ARGUMENT', 'agent manager options');
    this.#clock = options.clock ?? systemClock;
    this.#generateId = options.generateId ?? randomId;
    // Every log line passes through redaction: the host's secrets and URL credentials never reach it.
    this.#logger = options.logger ? redactingLogger(options.logger, options.secrets) : silentLogger;
    this.events = options.events ?? new AgentrixEvents();
    this.#consumer = options.consumer ?? `runtime-${this.#generateId()}`;
    this.#askTimeoutMs = options.askTimeoutMs ?? 60_000;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
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
    this.pool =
      options.pool ??
      new AgentPool(options.maxConcurrentTurns === undefined ? {} : { maxConcurrentTurns: options.maxConcurrentTurns });
    this.contexts = new ContextManager(options.contextStore ?? new InMemoryContextStore(), this.#clock);
    this.registry = options.registry ?? new InMemoryAgentRegistry(this.#clock);
    this.#approvals = options.approvals;
    if (options.model) this.#models.set('default', options.model);
    for (const [name, model] of Object.entries(options.models ?? {})) this.registerModel(name, model);
    this.#tools.set(sendMessageTool.name, sendMessageTool as Tool<any, unknown>);
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
    const allowed = (tool: string) =>
      parent.tools.some((own) => own === tool || (own.endsWith('*') && tool.startsWith(own.slice(0, -1))));
    const tools = [...(request.tools ?? [])];
    const refused = tools.filter((tool) => !allowed(tool));
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

  /** Sends a message to a live agent (from `host` unless `from` is given). */
  async send(input: Omit<SendInput, 'from'> & { from?: string }): Promise<MessageEnvelope> {
    this.#assertOpen();
    this.#live(input.to);
    return this.bus.send({ ...input, from: input.from ?? 'host' } as SendInput);
  }

  /** Sends a copy to every member of a group. */
  async broadcast(input: Omit<BroadcastInput, 'from'> & { from?: string }): Promise<MessageEnvelope[]> {
    this.#assertOpen();
    return this.bus.broadcast({ ...input, from: input.from ?? 'host' } as BroadcastInput);
  }

  /**
   * Sends `content` to an agent and resolves with its reply. Rejects at once when the agent cannot
   * answer: `AGENT_PAUSED` (paused by the host), `BUDGET_EXCEEDED` (paused on a spent budget),
   * `AGENT_FAILED` (stopped on an error, waiting for `resume()`). Rejects with `TIMEOUT` after
   * `timeoutMs` whatever the bus does (during an outage too), and with the turn's error if the
   * turn fails (the message itself goes back to the bus for redelivery).
   */
  async ask(agentId: string, content: string, options: AskOptions = {}): Promise<MessageEnvelope> {
    this.#assertOpen();
    const { runtime } = this.#live(agentId);
    checkAskOptions(options);
    refuseUnanswerable(runtime);
    const timeoutMs = options.timeoutMs ?? this.#askTimeoutMs;
    // The reply inbox; the message itself is from `host`, so prompts (and cache keys) do not
    // change with every ask.
    const inbox = `host:${this.#generateId()}`;
    const controller = new AbortController();
    const onAbort = () => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // Awaited, so it keeps the process alive; fires even when the bus never answers.
    const timer = this.#clock.setTimeout(() => {
      controller.abort(
        new AgentrixError('TIMEOUT', `Agent "${agentId}" did not reply within ${timeoutMs} ms`, { agentId }),
      );
    }, timeoutMs);
    let sentId: string | undefined;
    const onFailed = (event: AgentrixEventMap['turn.failed']) => {
      if (event.messageId !== sentId) return;
      controller.abort(
        new AgentrixError(
          (event.error.code ?? 'INTERNAL') as AgentrixError['code'],
          `Agent "${agentId}" failed to answer: ${event.error.message}`,
          {
            agentId,
            details: { error: event.error },
          },
        ),
      );
    };
    this.events.on('turn.failed', onFailed);
    const { signal } = controller;
    try {
      const sent = await untilAborted(
        this.bus.send({
          from: 'host',
          to: agentId,
          replyTo: inbox,
          content,
          ...(options.data !== undefined ? { data: options.data } : {}),
          ...(options.correlationId !== undefined ? { correlationId: options.correlationId } : {}),
        }),
        signal,
      );
      sentId = sent.id;
      for (;;) {
        const deliveries = await untilAborted(this.bus.read(inbox, { consumer: this.#consumer, signal }), signal);
        if (deliveries.length > 0)
          await untilAborted(
            this.bus.ack(
              inbox,
              deliveries.map((delivery) => delivery.deliveryId),
            ),
            signal,
          );
        const reply = deliveries.find((delivery) => delivery.envelope.inReplyTo === sent.id);
        if (reply) return reply.envelope;
        if (this.#closing) throw new AgentrixError('CLOSED', 'The agent manager closed while waiting for a reply');
      }
    } catch (error) {
      if (signal.aborted && signal.reason !== undefined) throw signal.reason;
      throw error;
    } finally {
      this.#clock.clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      this.events.off('turn.failed', onFailed);
      // Not awaited: during an outage it would hold the answer (or the timeout) back.
      this.bus
        .deleteInbox(inbox)
        .catch((error: unknown) =>
          this.#logger.debug({ inbox, error: serializeError(error) }, 'reply inbox not deleted'),
        );
    }
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
      let timer: unknown;
      const deadline = new Promise<'deadline'>((resolve) => {
        timer = this.#clock.setTimeout(() => resolve('deadline'), timeoutMs);
      });
      const outcome = await Promise.race([stops, deadline]);
      this.#clock.clearTimeout(timer);
      if (outcome === 'deadline' && pending.size > 0) {
        this.#logger.warn(
          { agents: [...pending].slice(0, 20), count: pending.size, timeoutMs },
          'close: agents did not stop in time; releasing them',
        );
      }
      if (this.#ownsBus) {
        await untilAborted(this.bus.close(), AbortSignal.timeout(Math.max(1, timeoutMs))).catch((error: unknown) =>
          this.#logger.warn({ error: serializeError(error) }, 'close: the bus did not close in time'),
        );
      }
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
    if (!AddressSchema.safeParse(agentId).success) {
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
}

/** An agent that cannot answer: the asker learns why at once instead of waiting for its timeout. */
function refuseUnanswerable(runtime: AgentRuntime): void {
  const { id } = runtime;
  if (runtime.state === 'error') {
    const last = runtime.lastError;
    throw new AgentrixError(
      'AGENT_FAILED',
      `Agent "${id}" stopped on an error${last ? ` (${last.code ?? last.name}: ${last.message})` : ''} and takes no work until resume()`,
      { agentId: id, details: last ? { lastError: last } : {} },
    );
  }
  const pause = runtime.pauseReason;
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
