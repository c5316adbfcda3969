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
  type ChatMessage,
  type ChatModel,
  type Clock,
  DEFAULT_THREAD,
  type DelegateInput,
  type Delivery,
  type IdGenerator,
  type Logger,
  type MessageBus,
  type MessageEnvelope,
  type RetryPolicy,
  type SendInput,
  type SerializedError,
  serializeError,
  sleep,
  type TimerHandle,
  type ToolContext,
  type TurnCommit,
  type TurnCommitHook,
  toAgentrixError,
  type UserMessage,
} from '@agentrix/core';
import type { AgentPool } from './agent-pool.js';
import { AgentStateMachine } from './agent-state-machine.js';
import type { ContextManager } from './context-manager.js';
import type { Deadlines } from './deadlines.js';
import type { KeptLease, LeaseKeeper } from './lease-keeper.js';
import { type RunTurnOptions, runTurnUnder, type TurnResult } from './run-turn.js';
import type { ToolExecutor } from './tool-execution.js';
import type { ToolSet } from './tool-set.js';
import { classifyFailure, type PauseReason, recordedPause, replyId, speakerName } from './turn-failure.js';
import { narrowToolSet, type TurnRouter } from './turn-router.js';
import { TurnSignal } from './turn-signal.js';

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
  /** Sends a reply or an error reply (the manager hands one to its own asks in process). */
  reply: (input: ReplyInput) => Promise<unknown>;
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

/**
 * Where the agent goes once its running turns end, when something decided it while they ran:
 * the host paused it, a turn hit an outage or a spent budget, or an error every message would hit.
 */
type After =
  | { kind: 'host' }
  | { kind: 'outage' | 'budget'; error: AgentrixError; delayMs: number }
  | { kind: 'error'; error: AgentrixError };

const PRECEDENCE: Record<After['kind'], number> = { outage: 1, budget: 1, host: 2, error: 3 };

/** Default wait of a delegated ask (`ToolContext.ask`), within the turn's own deadline. */
const DELEGATE_TIMEOUT_MS = 60_000;

/**
 * The loop of one agent: block until a message arrives, run a turn for it in its thread, send
 * the reply, commit (hooks, context, ack); repeat. An idle agent is one pending `bus.read` and
 * costs no CPU. Turns of one thread run one after another; turns of different threads run at
 * the same time, up to `spec.maxConcurrentThreads`.
 *
 * Failure policy (see docs/runtime.md, "When a turn fails", and `turn-failure.ts`): a message
 * that fails is given back and redelivered, then dead-lettered, while the agent goes on; a spent
 * budget or an outage pauses the agent, which resumes by itself; an error every message would hit
 * stops it in `error`. An asker gets an error reply when the failure is final for its message.
 * Nothing is acked before the turn's reply, hooks and context are stored. While a delivery waits
 * or runs, its lease is extended (a heartbeat every third of the bus's `leaseMs`). Every turn is
 * bounded by `turnTimeoutMs`, even when a tool or the model ignores its signal.
 */
export class AgentRuntime {
  readonly spec: AgentSpec;
  readonly #deps: AgentRuntimeDependencies;
  readonly #model: ChatModel;
  readonly #tools: ToolSet;
  readonly #machine: AgentStateMachine;
  /** The call scope of the main thread (other threads and handed-on scopes get their own). */
  readonly #scope: CallScope;
  /**
   * Aborted by pause and stop: ends the blocked read or the wait for a pool slot. One signal per
   * agent (a new controller after each pause), because an idle agent should cost little more
   * than its blocked read.
   */
  #reading = new AbortController();
  /** Set by stop and terminate: running turns are aborted with it (their messages go back). */
  #halted: AgentrixError | undefined;
  /** The running turns' aborts, aborted together by stop (no listener per turn). */
  #turnSignals: Set<TurnSignal> | undefined;
  /** The signal of the last turn, kept for the next (see `TurnSignal.reusable`). */
  #spareTurn: TurnSignal | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  /** Deliveries taken but not started (a pause, an outage, a spent budget): first in line on resume. */
  #held: Delivery[] | undefined;
  /** The turn running on each busy thread. */
  #running: Map<string, Promise<void>> = NOTHING_RUNNING;
  #after: After | undefined;
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
    const pause = recordedPause(lastError);
    if (pause.kind === 'host') this.#pause = pause;
    else this.#schedulePauseEnd(pause, pause.kind === 'budget' ? this.#budgetDelay(pause.error) : 0);
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

  /** Resolves when no turn runs on `threadId` (at once when none does). */
  async threadSettled(threadId: string): Promise<void> {
    for (let running = this.#running.get(threadId); running; running = this.#running.get(threadId)) await running;
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

  /** Stops taking messages. Running turns finish first; messages wait in the inbox. */
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
      this.#decideAfter({ kind: 'host' });
      return;
    }
    this.#pause = { kind: 'host' };
    this.#machine.transition('paused', 'paused by host');
    this.#reading.abort();
  }

  /** paused or error -> idle: the loop takes messages again (a held or failed one first). */
  resume(): void {
    this.#cancelAutoResume();
    const state = this.#machine.state;
    if (state === 'running') {
      if (this.#after?.kind === 'host') this.#after = undefined;
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
    if (this.#reading.signal.aborted) this.#reading = new AbortController();
    this.#loop ??= this.#run();
    this.#wakeUp();
  }

  /** Ends the agent for good: aborts running turns (their messages are given back), stops the loop. */
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
    const reason = new AgentrixError('ABORTED', `Agent "${this.id}" stopped`, { agentId: this.id });
    this.#halted = reason;
    for (const turn of this.#turnSignals ?? []) turn.abort(reason);
    this.#reading.abort(reason);
    this.#wakeUp();
    await this.#loop;
    await Promise.all(this.#running.values());
    const held = this.#held?.splice(0) ?? [];
    for (const delivery of held) await this.#deps.bus.nack(this.id, delivery.deliveryId).catch(() => {});
  }

  /** Keeps a delivery taken but not started, first in line (`front`) or last. */
  #hold(delivery: Delivery, front = false): void {
    this.#held ??= [];
    if (front) this.#held.unshift(delivery);
    else this.#held.push(delivery);
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #done(): boolean {
    return this.#stopping || this.#machine.state === 'terminated';
  }

  /** True while the loop may start turns: idle or running, and nothing decided to stop it. */
  #accepting(): boolean {
    const state = this.#machine.state;
    return (state === 'idle' || state === 'running') && this.#after === undefined && !this.#done();
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
    const { bus, consumer, logger, clock } = this.#deps;
    while (!this.#done()) {
      if (!this.#accepting() || this.#running.size >= this.spec.maxConcurrentThreads) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      let delivery = this.#held?.shift();
      // A held delivery's lease may be old: the lease keeper extends it at once.
      let leasedAt = Number.NEGATIVE_INFINITY;
      if (delivery === undefined) {
        const { signal } = this.#reading;
        try {
          delivery = (await bus.read(this.id, { consumer, max: 1, signal }))[0];
          leasedAt = clock.now();
          if (this.#outages > 0)
            logger.info({ agentId: this.id, attempts: this.#outages }, 'agent inbox reachable again');
          this.#outages = 0;
        } catch (thrown) {
          if (signal.aborted) continue;
          const error = toAgentrixError(thrown, 'BUS_UNAVAILABLE');
          if (!error.isRetryable) {
            if (this.#running.size > 0) this.#decideAfter({ kind: 'error', error });
            else this.#fail(error);
            continue;
          }
          // The bus is unreachable: stay idle and read again after a backoff (a background wait:
          // an idle agent keeps no process alive).
          const delayMs = this.#outageDelay();
          logger.warn(
            { agentId: this.id, attempt: this.#outages, delayMs, code: error.code, error: this.#serialize(error) },
            'agent cannot read its inbox; retrying',
          );
          await sleep(delayMs, { clock, signal, background: true }).catch(() => {});
          continue;
        }
        if (delivery === undefined) continue;
      }
      if (!this.#accepting()) {
        this.#hold(delivery, true);
        continue;
      }
      const threadId = delivery.envelope.threadId ?? DEFAULT_THREAD;
      const lease = this.#deps.leases.keep(this.id, delivery.deliveryId, leasedAt);
      // The turns of one thread run one after another: wait for the one running (its lease is kept).
      const busy = this.#running.get(threadId);
      if (busy !== undefined) {
        await busy;
        if (!this.#accepting()) {
          this.#deps.leases.release(lease);
          this.#hold(delivery, true);
          continue;
        }
      }
      this.#start(delivery, threadId, lease);
    }
  }

  #start(delivery: Delivery, threadId: string, lease: KeptLease): void {
    if (this.#machine.state === 'idle') this.#machine.transition('running', `message ${delivery.envelope.id}`);
    const turn = this.#drive(delivery, threadId, lease);
    if (this.#running === NOTHING_RUNNING) this.#running = new Map();
    this.#running.set(threadId, turn);
  }

  /** Runs a turn on its thread, then frees the thread (one async function: `.catch().finally()` cost more). */
  async #drive(delivery: Delivery, threadId: string, lease: KeptLease): Promise<void> {
    try {
      await this.#handle(delivery, threadId, lease);
    } catch (error) {
      this.#deps.logger.error({ agentId: this.id, error: this.#serialize(error) }, 'turn handling failed');
    } finally {
      this.#running.delete(threadId);
      if (this.#running.size === 0) this.#settle();
      this.#wakeUp();
    }
  }

  /** Records what the agent does once its running turns end; a stronger decision wins. */
  #decideAfter(next: After): void {
    if (this.#after === undefined || PRECEDENCE[next.kind] > PRECEDENCE[this.#after.kind]) this.#after = next;
  }

  /** The last running turn ended: go idle, or where a turn or the host decided. */
  #settle(): void {
    if (this.#machine.state !== 'running') return;
    const after = this.#after;
    this.#after = undefined;
    if (after === undefined) {
      this.#machine.transition('idle');
    } else if (after.kind === 'error') {
      this.#fail(after.error);
    } else if (after.kind === 'host') {
      this.#pause = { kind: 'host' };
      this.#machine.transition('paused', 'paused by host');
      this.#reading.abort();
    } else {
      this.#lastError = this.#serialize(after.error);
      this.#schedulePauseEnd({ kind: after.kind, error: this.#lastError }, after.delayMs);
      this.#machine.transition('paused', `${after.error.code}: retrying in ${after.delayMs} ms`);
      this.#reading.abort();
    }
  }

  /**
   * One message's turn, in steps: a pool slot, the turn's work under its deadline, then its commit
   * and `turn.completed`, or the failure policy; the slot, lease and deadline are released either way.
   */
  async #handle(delivery: Delivery, threadId: string, lease: KeptLease): Promise<void> {
    const waiting = this.#deps.pool.acquire(this.#reading.signal);
    if (waiting !== undefined && !(await this.#waitForSlot(waiting, delivery, lease))) return;
    const turnId = this.#deps.generateId();
    const started = this.#deps.clock.now();
    this.#announce(delivery, threadId, turnId);
    const turn = this.#openTurn();
    const deadline = this.#deps.deadlines.add(this.spec.turnTimeoutMs, () => turn.abort(this.#turnTimeout()));
    try {
      // Bounded even when something in the turn ignores the signal and never settles: the turn
      // is abandoned at its deadline (or when the agent stops) and its late result ignored.
      const work = await turn.race(this.#turn(delivery, threadId, turnId, turn), 'turn');
      // The commit is not raced: abandoned half-way (its context saved, its ack not sent) the
      // message would be given back and its turn replayed. Close's own deadline bounds it.
      const result = await this.#commit(delivery, threadId, turnId, work, turn);
      this.#completed(delivery, threadId, turnId, started, result);
    } catch (thrown) {
      await this.#failed(delivery, threadId, turnId, started, turn, thrown);
    } finally {
      this.#deps.deadlines.cancel(deadline);
      this.#closeTurn(turn, lease);
    }
  }

  /** Waits for a pool slot; false when the wait was cut (pause, stop): the delivery is held. */
  async #waitForSlot(waiting: Promise<void>, delivery: Delivery, lease: KeptLease): Promise<boolean> {
    try {
      await waiting;
      return true;
    } catch {
      this.#deps.leases.release(lease);
      this.#hold(delivery);
      return false;
    }
  }

  /** Logs a redelivery and emits `message.received` and `turn.started`. */
  #announce(delivery: Delivery, threadId: string, turnId: string): void {
    const { events } = this.#deps;
    const { envelope, attempt } = delivery;
    if (attempt > 1) {
      const fields: Record<string, unknown> = { agentId: this.id, messageId: envelope.id, attempt };
      if (delivery.lastError) fields.code = delivery.lastError.code;
      this.#deps.logger.info(fields, 'message redelivered');
    }
    if (events.has('message.received')) events.emit('message.received', { agentId: this.id, envelope, attempt });
    if (events.has('turn.started')) {
      events.emit('turn.started', { agentId: this.id, threadId, turnId, messageId: envelope.id, attempt });
    }
  }

  /** The abort side of a new turn: the last turn's when it can serve again (see `TurnSignal.reusable`). */
  #openTurn(): TurnSignal {
    const turn = this.#spareTurn ?? TurnSignal.own(new AbortController());
    this.#spareTurn = undefined;
    if (this.#halted !== undefined) turn.abort(this.#halted);
    this.#turnSignals ??= new Set();
    this.#turnSignals.add(turn);
    return turn;
  }

  #turnTimeout(): AgentrixError {
    return new AgentrixError('TURN_TIMEOUT', `Agent "${this.id}" turn exceeded ${this.spec.turnTimeoutMs} ms`, {
      agentId: this.id,
    });
  }

  /** A turn is stored and acked: count it, and the outage and budget streaks end. */
  #completed(delivery: Delivery, threadId: string, turnId: string, started: number, result: TurnResult): void {
    this.#turns++;
    this.#outages = 0;
    this.#budgetRefusals = 0;
    const { events } = this.#deps;
    if (events.has('turn.completed')) {
      events.emit('turn.completed', {
        agentId: this.id,
        threadId,
        turnId,
        messageId: delivery.envelope.id,
        steps: result.steps,
        usage: result.usage,
        durationMs: this.#deps.clock.now() - started,
        stopReason: result.stopReason,
        reply: result.reply,
      });
    }
  }

  /** Releases what a turn held, whatever its end: its lease, its signal (kept for the next turn when it can be) and its pool slot. */
  #closeTurn(turn: TurnSignal, lease: KeptLease): void {
    this.#deps.leases.release(lease);
    this.#turnSignals?.delete(turn);
    if (turn.reusable()) this.#spareTurn = turn;
    this.#deps.pool.release();
  }

  /** A turn failed: apply the failure policy to its message and its agent (see `turn-failure.ts`). */
  async #failed(
    delivery: Delivery,
    threadId: string,
    turnId: string,
    started: number,
    turn: TurnSignal,
    thrown: unknown,
  ) {
    const { bus, events, clock, logger } = this.#deps;
    const { envelope } = delivery;
    const stopped = this.#done();
    const error = toAgentrixError(turn.aborted && !stopped ? (turn.reason ?? thrown) : thrown);
    const serialized = this.#serialize(error);
    if (events.has('turn.failed')) {
      events.emit('turn.failed', {
        agentId: this.id,
        threadId,
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
      // Stopped or terminated mid-turn: the message goes back, unprocessed.
      logger.debug(fields, 'turn interrupted by stop; message given back');
      await bus.nack(this.id, delivery.deliveryId).catch(() => {});
      return;
    }
    switch (classifyFailure(error)) {
      case 'outage':
        // The store or bus is down: keep the message, pause, and try again after a backoff.
        this.#hold(delivery);
        this.#decideAfter({ kind: 'outage', error, delayMs: this.#outageDelay() });
        return;
      case 'budget':
        // Nothing was spent: keep the message and try again when the budget may have room. The
        // asker learns why now (once: a later refusal of the same message says nothing more); the
        // answer, when it comes, is a reply of its own.
        this.#hold(delivery);
        this.#budgetRefusals++;
        this.#decideAfter({ kind: 'budget', error, delayMs: this.#budgetDelay(serialized) });
        if (this.#budgetRefusals === 1) await this.#replyError(envelope, serialized, `${envelope.id}:paused`);
        return;
      case 'systemic':
        this.#decideAfter({ kind: 'error', error });
        await bus.nack(this.id, delivery.deliveryId, { error }).catch(() => {});
        await this.#replyError(envelope, serialized, envelope.id);
        return;
      case 'message':
        // This message failed: it goes back for redelivery (dead letter after the bus's
        // maxDeliveries) and the agent goes on. The asker hears of it on the last delivery.
        this.#lastError = serialized;
        logger.warn(fields, 'turn failed; message given back for redelivery');
        await bus.nack(this.id, delivery.deliveryId, { error }).catch(() => {});
        if (delivery.attempt >= bus.maxDeliveries) await this.#replyError(envelope, serialized, envelope.id);
    }
  }

  /**
   * Tells the asker (if any) why its message is not answered: an `error` reply carrying the error.
   * `key` makes its id: the message's own id for a final failure (then it takes the place of the
   * answer), something else for a notice the answer may follow.
   */
  async #replyError(envelope: MessageEnvelope, error: SerializedError, key: string): Promise<void> {
    if (envelope.replyTo === undefined) return;
    await this.#deps
      .reply({
        id: replyId(key),
        from: this.id,
        to: envelope.replyTo,
        type: 'error',
        content: error.message,
        data: { error },
        inReplyTo: envelope.id,
        ...(envelope.correlationId !== undefined ? { correlationId: envelope.correlationId } : {}),
        ...(envelope.threadId !== undefined ? { threadId: envelope.threadId } : {}),
      })
      .catch((sendError: unknown) =>
        this.#deps.logger.warn(
          { agentId: this.id, messageId: envelope.id, error: this.#serialize(sendError) },
          'error reply not sent',
        ),
      );
  }

  /** The work of a turn, raced against its deadline: the model, the tools, the reply. */
  async #turn(delivery: Delivery, threadId: string, turnId: string, turn: TurnSignal): Promise<TurnWork> {
    const { contexts } = this.#deps;
    const { envelope } = delivery;
    let tools = this.#tools;
    const router = this.#deps.router;
    if (router && tools.definitions.length > 0) {
      const decision = await router.route(
        { agentId: this.id, text: envelope.content, skills: tools },
        { signal: turn.signal },
      );
      tools = narrowToolSet(tools, decision);
    }
    const scope = this.#scopeOf(envelope, threadId);
    const context: AgentContext = await contexts.load(this.id, threadId);
    const input: UserMessage = { role: 'user', content: envelope.content, name: speakerName(envelope.from) };
    const options = this.#turnOptions(envelope, threadId, turnId, turn, tools, scope, [...context.messages, input]);
    const result = await runTurnUnder(options, turn);
    // A turn abandoned at its deadline must not answer or ack late.
    turn.throwIfAborted('turn');
    if (envelope.replyTo) await this.#sendReply(envelope, envelope.replyTo, result.reply);
    return { result, context, input, scope };
  }

  /** What `runTurn` gets for a turn of this agent. */
  #turnOptions(
    envelope: MessageEnvelope,
    threadId: string,
    turnId: string,
    turn: TurnSignal,
    tools: ToolSet,
    scope: CallScope,
    messages: ChatMessage[],
  ): RunTurnOptions {
    const spec = this.spec;
    const deps = this.#deps;
    const options: RunTurnOptions = {
      model: this.#model,
      instructions: spec.instructions,
      messages,
      tools,
      maxSteps: spec.maxSteps,
      stream: spec.stream,
      modelRetry: spec.modelRetry,
      scope,
      agentId: this.id,
      threadId,
      turnId,
      events: deps.events,
      clock: deps.clock,
      send: (message) => this.#sendAs(message, threadId),
      ask: (request) => this.#askAs(request, envelope, threadId, scope, turn.signal),
      logger: deps.logger,
    };
    // Set field by field: conditional spreads made a throwaway object each (bench/runtime section 4).
    if (deps.toolExecutor !== undefined) options.toolExecutor = deps.toolExecutor;
    if (spec.tier !== undefined) options.tier = spec.tier;
    if (deps.toolTimeoutMs !== undefined) options.toolTimeoutMs = deps.toolTimeoutMs;
    if (deps.secrets !== undefined) options.secrets = deps.secrets;
    return options;
  }

  /** The turn's answer to its asker, with an id derived from the request: a turn that runs again sends a reply the bus de-duplicates. */
  #sendReply(envelope: MessageEnvelope, to: string, content: string): Promise<unknown> {
    const reply: ReplyInput = {
      id: replyId(envelope.id),
      from: this.id,
      to,
      type: 'reply',
      content,
      inReplyTo: envelope.id,
    };
    if (envelope.correlationId !== undefined) reply.correlationId = envelope.correlationId;
    if (envelope.threadId !== undefined) reply.threadId = envelope.threadId;
    return this.#deps.reply(reply);
  }

  /** The commit of a turn: hooks (memory), then the context, then the ack. */
  async #commit(
    delivery: Delivery,
    threadId: string,
    turnId: string,
    { result, context, input, scope }: TurnWork,
    turn: TurnSignal,
  ): Promise<TurnResult> {
    const { bus, contexts, commitHooks } = this.#deps;
    const { envelope } = delivery;
    if (commitHooks.length > 0) {
      const commit: TurnCommit = {
        agentId: this.id,
        threadId,
        turnId,
        messageId: envelope.id,
        scope,
        input,
        messages: result.messages,
        reply: result.reply,
        signal: turn.signal,
      };
      // Part of the commit: a hook's writes (memory's episodes) land before the ack, or the turn fails.
      for (const hook of commitHooks) await hook(commit);
    }
    await contexts.append(context, [input, ...result.messages], this.spec.maxHistory);
    await bus.ack(this.id, [delivery.deliveryId]);
    return result;
  }

  /**
   * Whom a turn's calls are charged to: the spec's scope and the agent, the thread when it is
   * not `main`, and the user / workflow / tags a delegating sender handed on (its budget).
   */
  #scopeOf(envelope: MessageEnvelope, threadId: string): CallScope {
    if (threadId === DEFAULT_THREAD && envelope.scope === undefined) return this.#scope;
    const scope: CallScope = { ...this.#scope, ...envelope.scope, agentId: this.id };
    if (threadId !== DEFAULT_THREAD) scope.threadId = threadId;
    return scope;
  }

  /** Sends as this agent, in the turn's thread; replies come back to it unless the tool says otherwise. */
  #sendAs(input: Parameters<ToolContext['send']>[0], threadId: string) {
    const thread = threadId === DEFAULT_THREAD ? undefined : threadId;
    return this.#deps.send({
      replyTo: this.id,
      ...(thread !== undefined ? { threadId: thread } : {}),
      ...input,
      from: this.id,
    } as SendInput);
  }

  /** A delegated ask: another agent's answer within this turn, on the delegation path, under this turn's budget scope. */
  #askAs(
    input: DelegateInput,
    envelope: MessageEnvelope,
    threadId: string,
    scope: CallScope,
    signal: AbortSignal,
  ): Promise<MessageEnvelope> {
    const via = envelope.via === undefined ? [this.id] : [...envelope.via, this.id];
    if (typeof input?.to !== 'string' || typeof input.content !== 'string') {
      return Promise.reject(
        new AgentrixError('INVALID_ARGUMENT', 'ask expects { to: agent id, content: text }', { agentId: this.id }),
      );
    }
    if (via.includes(input.to)) {
      return Promise.reject(
        new AgentrixError(
          'DELEGATION_CYCLE',
          `Agent "${this.id}" cannot ask "${input.to}": it is already on the delegation path ${[...via, input.to].join(' -> ')}`,
          { agentId: this.id, details: { via, to: input.to } },
        ),
      );
    }
    const handed: NonNullable<MessageEnvelope['scope']> = {};
    if (scope.userId !== undefined) handed.userId = scope.userId;
    if (scope.workflowId !== undefined) handed.workflowId = scope.workflowId;
    if (scope.tags !== undefined) handed.tags = scope.tags;
    return this.#deps.ask({
      from: this.id,
      to: input.to,
      content: input.content,
      ...(input.data !== undefined ? { data: input.data } : {}),
      ...(threadId !== DEFAULT_THREAD ? { threadId } : {}),
      via,
      ...(Object.keys(handed).length > 0 ? { scope: handed } : {}),
      timeoutMs: input.timeoutMs ?? DELEGATE_TIMEOUT_MS,
      signal,
    });
  }

  #outageDelay(): number {
    this.#outages++;
    return backoffDelay(this.#outages, this.#deps.outageRetry);
  }

  /** Delay before a budget-paused agent tries again: `budgetRetryMs`, or sooner when the period resets. */
  #budgetDelay(error: SerializedError | undefined): number {
    const resetsAt = error?.details?.resetsAt;
    const untilReset = typeof resetsAt === 'number' ? resetsAt - this.#deps.clock.now() : Number.POSITIVE_INFINITY;
    return Math.max(0, Math.min(this.#deps.budgetRetryMs, untilReset));
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

  #cancelAutoResume(): void {
    if (this.#autoResume === undefined) return;
    this.#deps.clock.clearTimeout(this.#autoResume);
    this.#autoResume = undefined;
  }

  /** An error as events, logs and the registry keep it: redacted of the host's secrets too. */
  #serialize(error: unknown): SerializedError {
    return serializeError(error, { secrets: this.#deps.secrets });
  }

  #fail(error: AgentrixError): void {
    this.#lastError = this.#serialize(error);
    if (this.#machine.can('error')) this.#machine.transition('error', error.message);
  }
}

/** The running turns of an agent with none: an idle agent allocates no map (10,000 idle agents: bench section 3). */
const NOTHING_RUNNING = new Map<string, Promise<void>>();

/** A reply as the runtime sends it: to the asker, answering a message, with an id of its own. */
export type ReplyInput = SendInput & { id: string; type: 'reply' | 'error'; inReplyTo: string };

/** What a turn's work leaves for its commit. */
interface TurnWork {
  result: TurnResult;
  context: AgentContext;
  input: UserMessage;
  scope: CallScope;
}

/** What one agent is: its spec and the model and tools the spec names. */
export interface AgentRuntimeParts {
  spec: AgentSpec;
  model: ChatModel;
  tools: ToolSet;
}
