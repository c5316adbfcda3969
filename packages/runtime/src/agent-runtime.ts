import {
  type AgentContext,
  type AgentRegistry,
  AgentrixError,
  type AgentrixEvents,
  type AgentSpec,
  type AgentState,
  BACKGROUND_TIMER,
  backoffDelay,
  type CallScope,
  type ChatModel,
  type Clock,
  DEFAULT_THREAD,
  type Delivery,
  type IdGenerator,
  type Logger,
  type MessageBus,
  type RetryPolicy,
  type SerializedError,
  serializeError,
  sleep,
  type TimerHandle,
  type ToolContext,
  type TurnCommit,
  type TurnCommitHook,
  throwIfAborted,
  toAgentrixError,
  type UserMessage,
  untilAborted,
} from '@agentrix/core';
import type { AgentPool } from './agent-pool.js';
import { AgentStateMachine } from './agent-state-machine.js';
import type { ContextManager } from './context-manager.js';
import { runTurn, type TurnResult } from './run-turn.js';
import type { ToolExecutor } from './tool-execution.js';
import type { ToolSet } from './tool-set.js';
import { narrowToolSet, type TurnRouter } from './turn-router.js';

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
  /** Sends on behalf of agents (the manager checks that the recipient exists). */
  send: MessageBus['send'];
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

/** Why a paused agent is paused. */
export interface PauseReason {
  /** `host`: `pause()` was called; `outage`: the bus or store is down; `budget`: a budget is spent. */
  kind: 'host' | 'outage' | 'budget';
  /** The error behind an `outage` or `budget` pause. */
  error?: SerializedError;
  /** When the agent tries again by itself (outage and budget pauses), ms since the epoch. */
  resumesAt?: number;
}

/**
 * The loop of one agent: block until a message arrives, run a turn for it, send the reply,
 * save the context, ack; repeat. An idle agent is one pending `bus.read` and costs no CPU.
 *
 * Failure policy (see docs/runtime.md, "When a turn fails"):
 * - a turn that fails (after the model's retries, on a tool executor error, or past
 *   `turnTimeoutMs`) gives its message back with the error (nack); the bus redelivers it and moves
 *   it to dead letter after its `maxDeliveries`, and the agent goes on with the next message;
 * - a spent budget (`BUDGET_EXCEEDED`) pauses the agent with reason `budget`, keeping the message:
 *   it tries again every `budgetRetryMs` (or when the error says the period resets), so it
 *   resumes by itself when the period rolls over or the cap is raised;
 * - an unreachable bus or store pauses it with reason `outage` and resumes it after a backoff;
 * - an error every message would hit (refused credentials, an unknown model or database) puts
 *   it in `error` until the host calls `resume()`; the message goes back to the bus.
 * Nothing is acked before the turn's reply and context are stored. While a turn runs, its
 * delivery's lease is extended (a heartbeat every third of the bus's `leaseMs`), so a long turn
 * is not handed to another reader. Every turn is bounded by `turnTimeoutMs`, even when a tool or
 * the model ignores its AbortSignal and never settles: the turn is abandoned, not awaited.
 */
export class AgentRuntime {
  readonly spec: AgentSpec;
  readonly #deps: AgentRuntimeDependencies;
  readonly #model: ChatModel;
  readonly #tools: ToolSet;
  readonly #machine: AgentStateMachine;
  readonly #scope: CallScope;
  /**
   * Aborted by stop/terminate, and by pause while no turn runs: ends the blocked read or the
   * wait for a pool slot. One signal per agent (a new controller after each pause), because
   * an idle agent should cost little more than its blocked read.
   */
  #active = new AbortController();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #held: Delivery | undefined;
  #pauseRequested = false;
  #stopping = false;
  #turns = 0;
  #lastError: SerializedError | undefined;
  #persisted: Promise<void> = Promise.resolve();
  /** Consecutive failures to reach the bus or the store. */
  #outages = 0;
  /** Consecutive budget refusals (the first is logged as a warning, the rest at debug). */
  #budgetRefusals = 0;
  #autoResume: TimerHandle | undefined;
  #pause: PauseReason | undefined;

  constructor(
    deps: AgentRuntimeDependencies,
    parts: AgentRuntimeParts,
    initialState: AgentState = 'created',
    lastError?: SerializedError,
  ) {
    this.#deps = deps;
    this.spec = parts.spec;
    this.#model = parts.model;
    this.#tools = parts.tools;
    this.#lastError = lastError;
    this.#scope = { ...parts.spec.scope, agentId: parts.spec.id };
    this.#machine = new AgentStateMachine(parts.spec.id, deps.events, deps.clock, initialState, (from, to, reason) =>
      this.#stateChanged(from, to, reason),
    );
    if (initialState === 'paused') this.#restorePause(lastError);
  }

  /**
   * A paused agent restored from a registry: an outage pause resumes by itself at once, a budget
   * pause at its next try; anything else was the host's pause.
   */
  #restorePause(lastError: SerializedError | undefined): void {
    const code = lastError?.code;
    if (code === 'BUDGET_EXCEEDED' && lastError) {
      this.#schedulePauseEnd({ kind: 'budget', error: lastError }, this.#budgetDelay(lastError));
    } else if ((code === 'STORE_UNAVAILABLE' || code === 'BUS_UNAVAILABLE') && lastError) {
      this.#schedulePauseEnd({ kind: 'outage', error: lastError }, 0);
    } else {
      this.#pause = { kind: 'host' };
    }
  }

  get id(): string {
    return this.spec.id;
  }

  get state(): AgentState {
    return this.#machine.state;
  }

  get turns(): number {
    return this.#turns;
  }

  get lastError(): SerializedError | undefined {
    return this.#lastError;
  }

  /** Why the agent is paused, while it is. */
  get pauseReason(): PauseReason | undefined {
    return this.#machine.state === 'paused' ? this.#pause : undefined;
  }

  /** Resolves when every state change so far is recorded in the registry. */
  flushState(): Promise<void> {
    return this.#persisted;
  }

  /** created -> idle, and the loop starts reading. Only a new agent can be started. */
  start(): void {
    const state = this.#machine.state;
    if (state !== 'created') {
      throw new AgentrixError(
        'ILLEGAL_STATE_TRANSITION',
        `Agent "${this.id}" is ${state}; start() is for new agents${state === 'paused' || state === 'error' ? ', use resume()' : ''}`,
        { agentId: this.id, details: { from: state, to: 'idle' } },
      );
    }
    this.#machine.transition('idle', 'started');
    this.#loop ??= this.#run();
  }

  /** Stops taking messages. A running turn finishes first; messages wait in the inbox. */
  pause(): void {
    const state = this.#machine.state;
    this.#cancelAutoResume();
    if (state === 'paused') {
      // A pause of the host's takes over an outage or budget pause: no automatic resume now.
      if (this.#pause?.kind !== 'host') {
        this.#pause = { kind: 'host' };
        this.#record('paused', undefined);
        this.#deps.logger.info({ agentId: this.id, pause: 'host' }, 'agent paused by host');
      }
      return;
    }
    if (state === 'running') {
      this.#pauseRequested = true;
      return;
    }
    this.#pause = { kind: 'host' };
    this.#machine.transition('paused', 'paused by host');
    this.#active.abort();
  }

  /** paused or error -> idle: the loop takes messages again (a failed one is redelivered). */
  resume(): void {
    this.#cancelAutoResume();
    const state = this.#machine.state;
    if (state === 'running') {
      this.#pauseRequested = false;
      return;
    }
    if (state === 'idle') return;
    if (state === 'created') {
      throw new AgentrixError(
        'ILLEGAL_STATE_TRANSITION',
        `Agent "${this.id}" has not been started; call start() instead of resume()`,
        { agentId: this.id, details: { from: state, to: 'idle' } },
      );
    }
    const pause = this.#pause;
    this.#pause = undefined;
    this.#machine.transition(
      'idle',
      state === 'error'
        ? 'resumed after error'
        : pause && pause.kind !== 'host'
          ? `retrying after ${pause.kind}`
          : 'resumed',
    );
    this.#lastError = undefined;
    if (this.#active.signal.aborted) this.#active = new AbortController();
    this.#loop ??= this.#run();
    this.#wakeUp();
  }

  /** Ends the agent for good: aborts a running turn (its message is given back), stops the loop. */
  async terminate(reason = 'terminated'): Promise<void> {
    if (this.#machine.state === 'terminated') return;
    this.#machine.transition('terminated', reason);
    await this.#shutdown();
  }

  /** Stops the loop without changing the agent's state (process shutdown; a store restores it later). */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    this.#cancelAutoResume();
    this.#active.abort(new AgentrixError('ABORTED', `Agent "${this.id}" stopped`, { agentId: this.id }));
    this.#wakeUp();
    await this.#loop;
    const held = this.#held;
    this.#held = undefined;
    if (held) await this.#deps.bus.nack(this.id, held.deliveryId).catch(() => {});
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #done(): boolean {
    return this.#stopping || this.#machine.state === 'terminated';
  }

  #stateChanged(from: AgentState, to: AgentState, reason: string | undefined): void {
    // A turn's idle -> running -> idle costs no write and no log line: running is stored as idle.
    if (to === 'running' || (from === 'running' && to === 'idle')) return;
    const { logger } = this.#deps;
    const pause = to === 'paused' ? this.#pause : undefined;
    const fields = {
      agentId: this.id,
      from,
      to,
      ...(reason === undefined ? {} : { reason }),
      ...(pause ? { pause: pause.kind, ...(pause.error ? { code: pause.error.code } : {}) } : {}),
      ...(to === 'error' && this.#lastError ? { code: this.#lastError.code, error: this.#lastError } : {}),
    };
    if (to === 'error') logger.error(fields, 'agent failed: waiting for resume()');
    else if (pause?.kind === 'budget' && this.#budgetRefusals > 1) logger.debug(fields, 'agent paused again');
    else if (pause && pause.kind !== 'host') logger.warn(fields, `agent paused (${pause.kind}): resumes by itself`);
    else logger.info(fields, `agent ${to}`);
    // The error is kept with error states and with outage and budget pauses, so restore() can
    // tell a pause that ends by itself from the host's.
    this.#record(to, to === 'error' || (pause && pause.kind !== 'host') ? this.#lastError : undefined);
  }

  #record(state: AgentState, lastError: SerializedError | undefined): void {
    const { registry, logger } = this.#deps;
    this.#persisted = this.#persisted
      .then(() => registry.setState(this.id, state, lastError))
      .catch((error: unknown) =>
        logger.error({ agentId: this.id, state, error: serializeError(error) }, 'agent state not recorded'),
      );
  }

  async #run(): Promise<void> {
    const { bus, consumer, logger } = this.#deps;
    while (!this.#done()) {
      if (this.#machine.state !== 'idle') {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      let delivery = this.#held;
      this.#held = undefined;
      // A held delivery's lease may be old: its heartbeat starts at once.
      let leasedAt = Number.NEGATIVE_INFINITY;
      if (!delivery) {
        const { signal } = this.#active;
        try {
          [delivery] = await bus.read(this.id, { consumer, max: 1, signal });
          leasedAt = this.#deps.clock.now();
          if (this.#outages > 0)
            logger.info({ agentId: this.id, attempts: this.#outages }, 'agent inbox reachable again');
          this.#outages = 0;
        } catch (thrown) {
          if (signal.aborted) continue;
          const error = toAgentrixError(thrown, 'BUS_UNAVAILABLE');
          if (!error.isRetryable) {
            this.#fail(error);
            continue;
          }
          // The bus is unreachable: stay idle and read again after a backoff (a background wait:
          // an idle agent keeps no process alive).
          const delayMs = this.#outageDelay();
          logger.warn(
            { agentId: this.id, attempt: this.#outages, delayMs, code: error.code, error: this.#serialize(error) },
            'agent cannot read its inbox; retrying',
          );
          await sleep(delayMs, { clock: this.#deps.clock, signal, background: true }).catch(() => {});
          continue;
        }
      }
      if (!delivery) continue;
      if (this.#machine.state !== 'idle' || this.#done()) {
        this.#held = delivery;
        continue;
      }
      await this.#handle(delivery, leasedAt);
    }
  }

  async #handle(delivery: Delivery, leasedAt: number): Promise<void> {
    const { pool, events, clock, generateId, bus, consumer } = this.#deps;
    const active = this.#active;
    const waiting = pool.acquire(active.signal);
    if (waiting) {
      try {
        await waiting;
      } catch {
        this.#held = delivery;
        return;
      }
      if (this.#machine.state !== 'idle') {
        pool.release();
        this.#held = delivery;
        return;
      }
    }
    const { envelope } = delivery;
    const turnId = generateId();
    const started = clock.now();
    if (delivery.attempt > 1) {
      this.#deps.logger.info(
        {
          agentId: this.id,
          messageId: envelope.id,
          attempt: delivery.attempt,
          ...(delivery.lastError ? { code: delivery.lastError.code } : {}),
        },
        'message redelivered',
      );
    }
    this.#machine.transition('running', `message ${envelope.id}`);
    if (events.has('message.received')) {
      events.emit('message.received', { agentId: this.id, envelope, attempt: delivery.attempt });
    }
    if (events.has('turn.started')) {
      events.emit('turn.started', { agentId: this.id, turnId, messageId: envelope.id, attempt: delivery.attempt });
    }
    const controller = new AbortController();
    const onStop = () => controller.abort(active.signal.reason);
    active.signal.addEventListener('abort', onStop, { once: true });
    const timeout = clock.setTimeout(() => {
      controller.abort(
        new AgentrixError('TURN_TIMEOUT', `Agent "${this.id}" turn exceeded ${this.spec.turnTimeoutMs} ms`, {
          agentId: this.id,
        }),
      );
    }, this.spec.turnTimeoutMs);
    const heartbeat = new LeaseHeartbeat(bus, clock, this.id, delivery.deliveryId, consumer, leasedAt, (error) =>
      this.#deps.logger.warn(
        { agentId: this.id, messageId: envelope.id, error: this.#serialize(error) },
        'lease not extended',
      ),
    );
    try {
      // Bounded even when something in the turn ignores the signal and never settles: the turn
      // is abandoned at its deadline (or when the agent stops) and its late result ignored.
      const result = await untilAborted(this.#turn(delivery, turnId, controller.signal), controller.signal, 'turn');
      this.#turns++;
      this.#outages = 0;
      this.#budgetRefusals = 0;
      if (this.#machine.state === 'running') {
        const pause = this.#pauseRequested;
        if (pause) this.#pause = { kind: 'host' };
        this.#machine.transition(pause ? 'paused' : 'idle', pause ? 'paused by host' : undefined);
        if (pause) this.#active.abort();
      }
      this.#pauseRequested = false;
      if (events.has('turn.completed')) {
        events.emit('turn.completed', {
          agentId: this.id,
          turnId,
          messageId: envelope.id,
          steps: result.steps,
          usage: result.usage,
          durationMs: clock.now() - started,
          stopReason: result.stopReason,
          reply: result.reply,
        });
      }
    } catch (thrown) {
      const stopped = this.#done();
      const error = toAgentrixError(
        controller.signal.aborted && !stopped ? (controller.signal.reason ?? thrown) : thrown,
      );
      const serialized = this.#serialize(error);
      if (events.has('turn.failed')) {
        events.emit('turn.failed', {
          agentId: this.id,
          turnId,
          messageId: envelope.id,
          error: serialized,
          durationMs: clock.now() - started,
        });
      }
      const fields = {
        agentId: this.id,
        messageId: envelope.id,
        turnId,
        attempt: delivery.attempt,
        code: error.code,
        error: serialized,
      };
      if (stopped) {
        // Terminated or stopped mid-turn: the message goes back, unprocessed.
        this.#deps.logger.debug(fields, 'turn interrupted by stop; message given back');
        await bus.nack(this.id, delivery.deliveryId).catch(() => {});
      } else if (isOutage(error)) {
        // The store or bus is down: keep the message, pause, and try again after a backoff.
        this.#held = delivery;
        this.#pauseUntilRetry('outage', error, this.#outageDelay());
      } else if (error.code === 'BUDGET_EXCEEDED') {
        // Nothing was spent: keep the message and try again when the budget may have room.
        this.#held = delivery;
        this.#budgetRefusals++;
        this.#pauseUntilRetry('budget', error, this.#budgetDelay(serialized));
      } else if (isSystemic(error)) {
        await bus.nack(this.id, delivery.deliveryId, { error }).catch(() => {});
        this.#fail(error);
      } else {
        // This message failed: it goes back for redelivery (dead letter after the bus's
        // maxDeliveries) and the agent goes on.
        this.#lastError = serialized;
        this.#deps.logger.warn(fields, 'turn failed; message given back for redelivery');
        await bus.nack(this.id, delivery.deliveryId, { error }).catch(() => {});
        if (this.#machine.state === 'running') {
          const pause = this.#pauseRequested;
          if (pause) this.#pause = { kind: 'host' };
          this.#machine.transition(pause ? 'paused' : 'idle', pause ? 'paused by host' : `turn failed: ${error.code}`);
          if (pause) this.#active.abort();
        }
        this.#pauseRequested = false;
      }
    } finally {
      heartbeat.stop();
      clock.clearTimeout(timeout);
      active.signal.removeEventListener('abort', onStop);
      pool.release();
    }
  }

  async #turn(delivery: Delivery, turnId: string, signal: AbortSignal): Promise<TurnResult> {
    const { bus, contexts, events, clock } = this.#deps;
    const { envelope } = delivery;
    const model = this.#model;
    let tools = this.#tools;
    const router = this.#deps.router;
    if (router && tools.definitions.length > 0) {
      const decision = await router.route({ agentId: this.id, text: envelope.content, skills: tools }, { signal });
      tools = narrowToolSet(tools, decision);
    }
    const spec = this.spec;
    const context: AgentContext = await contexts.load(this.id);
    const input: UserMessage = { role: 'user', content: envelope.content, name: speakerName(envelope.from) };
    const result = await runTurn({
      model,
      instructions: spec.instructions,
      messages: context.messages.length > 0 ? [...context.messages, input] : [input],
      tools,
      ...(this.#deps.toolExecutor ? { toolExecutor: this.#deps.toolExecutor } : {}),
      maxSteps: spec.maxSteps,
      stream: spec.stream,
      modelRetry: spec.modelRetry,
      ...(spec.tier !== undefined ? { tier: spec.tier } : {}),
      scope: this.#scope,
      agentId: this.id,
      turnId,
      signal,
      events,
      clock,
      send: (message) => this.#sendAs(message),
      logger: this.#deps.logger,
      ...(this.#deps.toolTimeoutMs !== undefined ? { toolTimeoutMs: this.#deps.toolTimeoutMs } : {}),
      ...(this.#deps.secrets !== undefined ? { secrets: this.#deps.secrets } : {}),
    });
    // A turn abandoned at its deadline must not answer or ack late.
    throwIfAborted(signal, 'turn');
    const { commitHooks } = this.#deps;
    if (envelope.replyTo) {
      await bus.send({
        from: this.id,
        to: envelope.replyTo,
        type: 'reply',
        content: result.reply,
        inReplyTo: envelope.id,
        ...(envelope.correlationId !== undefined ? { correlationId: envelope.correlationId } : {}),
      });
    }
    if (commitHooks.length > 0) {
      const commit: TurnCommit = {
        agentId: this.id,
        threadId: DEFAULT_THREAD,
        turnId,
        messageId: envelope.id,
        scope: this.#scope,
        input,
        messages: result.messages,
        reply: result.reply,
        signal,
      };
      // Part of the commit: a hook's writes (memory's episodes) land before the ack, or the turn fails.
      for (const hook of commitHooks) await hook(commit);
      throwIfAborted(signal, 'turn');
    }
    await contexts.append(context, [input, ...result.messages], spec.maxHistory);
    await bus.ack(this.id, [delivery.deliveryId]);
    return result;
  }

  /** Sends as this agent; replies come back to it unless the tool says otherwise. */
  #sendAs(input: Parameters<ToolContext['send']>[0]) {
    return this.#deps.send({ replyTo: this.id, ...input, from: this.id } as Parameters<MessageBus['send']>[0]);
  }

  #outageDelay(): number {
    this.#outages++;
    return backoffDelay(this.#outages, this.#deps.outageRetry);
  }

  /** Delay before a budget-paused agent tries again: `budgetRetryMs`, or sooner when the period resets. */
  #budgetDelay(error: SerializedError): number {
    const resetsAt = error.details?.resetsAt;
    const untilReset = typeof resetsAt === 'number' ? resetsAt - this.#deps.clock.now() : Number.POSITIVE_INFINITY;
    return Math.max(0, Math.min(this.#deps.budgetRetryMs, untilReset));
  }

  /** Pauses on an outage or a spent budget; the agent resumes by itself after `delayMs` (unless the host pauses it). */
  #pauseUntilRetry(kind: 'outage' | 'budget', error: AgentrixError, delayMs: number): void {
    this.#lastError = this.#serialize(error);
    const hostPause = this.#pauseRequested;
    this.#pauseRequested = false;
    if (!this.#machine.can('paused')) return;
    if (hostPause) {
      this.#pause = { kind: 'host' };
      this.#machine.transition('paused', 'paused by host');
    } else {
      this.#schedulePauseEnd({ kind, error: this.#lastError }, delayMs);
      this.#machine.transition('paused', `${error.code}: retrying in ${delayMs} ms`);
    }
    this.#active.abort();
  }

  #schedulePauseEnd(pause: PauseReason, delayMs: number): void {
    this.#pause = { ...pause, resumesAt: this.#deps.clock.now() + delayMs };
    this.#cancelAutoResume();
    // A background timer: a paused agent keeps no process alive.
    this.#autoResume = this.#deps.clock.setTimeout(
      () => {
        this.#autoResume = undefined;
        if (this.#machine.state === 'paused' && this.#pause?.kind === pause.kind && !this.#done()) this.resume();
      },
      delayMs,
      BACKGROUND_TIMER,
    );
  }

  /** An error as events, logs and the registry keep it: redacted of the host's secrets too. */
  #serialize(error: unknown): SerializedError {
    return serializeError(error, this.#deps.secrets ? { secrets: this.#deps.secrets } : {});
  }

  #cancelAutoResume(): void {
    if (this.#autoResume === undefined) return;
    this.#deps.clock.clearTimeout(this.#autoResume);
    this.#autoResume = undefined;
  }

  #fail(error: AgentrixError): void {
    this.#lastError = this.#serialize(error);
    this.#pauseRequested = false;
    if (this.#machine.can('error')) this.#machine.transition('error', error.message);
  }
}

/** Failures of the infrastructure rather than of the turn: worth waiting out. */
function isOutage(error: AgentrixError): boolean {
  return error.code === 'STORE_UNAVAILABLE' || error.code === 'BUS_UNAVAILABLE';
}

/** Errors every message would hit until someone changes the configuration: the agent stops on them. */
const SYSTEMIC_CODES: ReadonlySet<string> = new Set([
  'AUTH_FAILED',
  'MODEL_NOT_FOUND',
  'DATABASE_NOT_FOUND',
  'UNSUPPORTED_CONTEXT_VERSION',
]);

function isSystemic(error: AgentrixError): boolean {
  return SYSTEMIC_CODES.has(error.code);
}

/**
 * The `name` of a user message: the sender, except a host's reply inbox (`host:<random id>`),
 * which would make every prompt unique (and never a cache hit): it is just `host`.
 */
function speakerName(from: string): string {
  return from.startsWith('host:') ? 'host' : from;
}

/** What one agent is: its spec and the model and tools the spec names. */
export interface AgentRuntimeParts {
  spec: AgentSpec;
  model: ChatModel;
  tools: ToolSet;
}

/** Extends a delivery's lease every third of the bus's lease time while a turn runs. */
class LeaseHeartbeat {
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(
    private readonly bus: MessageBus,
    private readonly clock: Clock,
    private readonly inbox: string,
    private readonly deliveryId: string,
    private readonly consumer: string,
    leasedAt: number,
    private readonly onError: (error: unknown) => void,
  ) {
    // The first beat is due a third of a lease after the read (at once when the pool wait or a
    // pause took longer), so a short turn costs no extra bus call.
    this.#schedule(leasedAt + this.#interval() - clock.now());
  }

  #interval(): number {
    return Math.max(1, this.bus.leaseMs / 3);
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    if (delayMs <= 0) void this.#beat();
    else this.#timer = this.clock.setTimeout(() => void this.#beat(), delayMs, BACKGROUND_TIMER);
  }

  async #beat(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.bus.extendLease(this.inbox, [this.deliveryId], { consumer: this.consumer });
    } catch (error) {
      this.onError(error);
    }
    this.#schedule(this.#interval());
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
  }
}
