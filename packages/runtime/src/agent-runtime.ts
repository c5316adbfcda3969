/**
 * One agent's runtime: its lifecycle (start, pause, resume, terminate), its read loop and thread
 * slots, its turns' commit, and the failure policy of its turns. A turn's work is in `agent-turns.ts`,
 * its pauses in `agent-pauses.ts`, its events in `turn-events.ts`, its replies in `agent-replies.ts`,
 * what every agent shares in `agent-runtime-dependencies.ts`.
 */
import {
  AgentrixError,
  type AgentSpec,
  type AgentState,
  DEFAULT_THREAD,
  type Delivery,
  type SerializedError,
  serializeError,
  sleep,
  toAgentrixError,
} from '@agentrix/core';
import { AgentPauses } from './agent-pauses.js';
import { sendErrorReply } from './agent-replies.js';
import type { AgentRuntimeDependencies, AgentRuntimeParts } from './agent-runtime-dependencies.js';
import { logStateChange } from './agent-state-log.js';
import { AgentStateMachine } from './agent-state-machine.js';
import { AgentTurns } from './agent-turns.js';
import type { Deadline } from './deadlines.js';
import type { KeptLease } from './lease-keeper.js';
import { runTurnUnder, type TurnResult } from './run-turn.js';
import { RunningTurns, TurnEnd } from './running-turns.js';
import { announceTurn, emitTurnCompleted } from './turn-events.js';
import { classifyFailure, type PauseReason } from './turn-failure.js';
import { TurnSignal } from './turn-signal.js';

/** Nothing left to record (one promise for every agent that recorded nothing yet). */
const RECORDED: Promise<void> = Promise.resolve();

/**
 * A turn under way on its thread: its end (what the thread's next message and a stop wait for),
 * and what its abort needs to end it while its step loop still runs (see `TurnSignal.guard`).
 */
class DrivenTurn extends TurnEnd {
  turnId = '';
  started = 0;
  turn: TurnSignal | undefined = undefined;
  deadline: Deadline | undefined = undefined;

  constructor(
    readonly delivery: Delivery,
    readonly threadId: string,
    readonly lease: KeptLease,
  ) {
    super();
  }
}

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
  readonly #machine: AgentStateMachine;
  /** The work and commit of this agent's turns. */
  readonly #work: AgentTurns;
  /**
   * Aborted by pause and stop: ends the blocked read or the wait for a pool slot. One signal per
   * agent (a new controller after each pause), because an idle agent should cost little more
   * than its blocked read.
   */
  #reading = new AbortController();
  /** Set by stop and terminate: running turns are aborted with it (their messages go back). */
  #halted: AgentrixError | undefined;
  /** The signal of the last turn, kept for the next (see `TurnSignal.reusable`). */
  #spareTurn: TurnSignal | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  /** Deliveries taken but not started (a pause, an outage, a spent budget): first in line on resume. */
  #held: Delivery[] | undefined;
  /** The turn running on each busy thread, and the running turns' aborts (stop aborts them together). */
  readonly #running = new RunningTurns();
  #stopping = false;
  #turns = 0;
  #lastError: SerializedError | undefined;
  #persisted: Promise<void> = RECORDED;
  readonly #pauses: AgentPauses;

  constructor(
    deps: AgentRuntimeDependencies,
    parts: AgentRuntimeParts,
    initialState: AgentState = 'created',
    lastError?: SerializedError,
  ) {
    this.#deps = deps;
    this.spec = parts.spec;
    this.#work = new AgentTurns(deps, parts);
    this.#lastError = lastError;
    // An outage or budget pause ends by itself when it is still the pause in force.
    this.#pauses = new AgentPauses(deps, (kind) => {
      if (this.#machine.state === 'paused' && this.#pauses.reason?.kind === kind && !this.#done()) this.resume();
    });
    this.#machine = new AgentStateMachine(parts.spec.id, deps.events, deps.clock, initialState, (from, to, reason) =>
      this.#stateChanged(from, to, reason),
    );
    if (initialState === 'paused') this.#pauses.restore(lastError);
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
    return this.#machine.state === 'paused' ? this.#pauses.reason : undefined;
  }

  /** Resolves when no turn runs on `threadId` (at once when none does). */
  async threadSettled(threadId: string): Promise<void> {
    for (let running = this.#running.get(threadId); running; running = this.#running.get(threadId))
      await running.promise;
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
    this.#pauses.cancel();
    if (state === 'paused') {
      // A pause of the host's takes over an outage or budget pause: no automatic resume now.
      if (this.#pauses.reason?.kind !== 'host') {
        this.#pauses.reason = { kind: 'host' };
        this.#record('paused', undefined);
        this.#deps.logger.info({ agentId: this.id, pause: 'host' }, 'agent paused by host');
      }
      return;
    }
    if (state === 'running') {
      this.#pauses.decide({ kind: 'host' });
      return;
    }
    this.#pauses.reason = { kind: 'host' };
    this.#machine.transition('paused', 'paused by host');
    this.#reading.abort();
  }

  /** paused or error -> idle: the loop takes messages again (a held or failed one first). */
  resume(): void {
    this.#pauses.cancel();
    const state = this.#machine.state;
    if (state === 'running') {
      if (this.#pauses.after?.kind === 'host') this.#pauses.after = undefined;
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
    const pause = this.#pauses.reason;
    this.#pauses.reason = undefined;
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
    this.#pauses.cancel();
    const reason = new AgentrixError('ABORTED', `Agent "${this.id}" stopped`, { agentId: this.id });
    this.#halted = reason;
    this.#running.abortAll(reason);
    this.#reading.abort(reason);
    this.#wakeUp();
    await this.#loop;
    await Promise.all(this.#running.ends());
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
    return (state === 'idle' || state === 'running') && this.#pauses.after === undefined && !this.#done();
  }

  #stateChanged(from: AgentState, to: AgentState, reason: string | undefined): void {
    // A turn's idle -> running -> idle costs no write and no log line: running is stored as idle.
    if (to === 'running' || (from === 'running' && to === 'idle')) return;
    const pause = to === 'paused' ? this.#pauses.reason : undefined;
    logStateChange(this.#deps.logger, this.id, from, to, reason, pause, this.#lastError, this.#pauses.budgetRefusals);
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
    // The read's options, made again only when a resume brings a new signal (an object less a message).
    let reading = { consumer, max: 1, signal: this.#reading.signal };
    while (!this.#done()) {
      if (!this.#accepting() || this.#running.size >= this.spec.maxConcurrentThreads) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      let delivery = this.#held?.shift();
      // A held delivery's lease may be old: the lease keeper extends it at once.
      let held = true;
      if (delivery === undefined) {
        const { signal } = this.#reading;
        try {
          if (reading.signal !== signal) reading = { consumer, max: 1, signal };
          delivery = (await bus.read(this.id, reading))[0];
          held = false;
          if (this.#pauses.outages > 0)
            logger.info({ agentId: this.id, attempts: this.#pauses.outages }, 'agent inbox reachable again');
          this.#pauses.outages = 0;
        } catch (thrown) {
          if (signal.aborted) continue;
          const error = toAgentrixError(thrown, 'BUS_UNAVAILABLE');
          if (!error.isRetryable) {
            if (this.#running.size > 0) this.#pauses.decide({ kind: 'error', error });
            else this.#fail(error);
            continue;
          }
          // The bus is unreachable: stay idle and read again after a backoff (a background wait:
          // an idle agent keeps no process alive).
          const delayMs = this.#pauses.outageDelay();
          const attempt = this.#pauses.outages;
          logger.warn(
            { agentId: this.id, attempt, delayMs, code: error.code, error: this.#serialize(error) },
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
      const lease = this.#deps.leases.keep(this.id, delivery.deliveryId, held);
      // The turns of one thread run one after another: wait for the one running (its lease is kept).
      const busy = this.#running.get(threadId);
      if (busy !== undefined) {
        await busy.promise;
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
    // The reason is for `agent.state` only (running is not logged nor stored): built when someone listens.
    if (this.#machine.state === 'idle')
      this.#machine.transition(
        'running',
        this.#deps.events.has('agent.state') ? `message ${delivery.envelope.id}` : undefined,
      );
    const driven = new DrivenTurn(delivery, threadId, lease);
    this.#running.set(threadId, driven);
    void this.#drive(driven);
  }

  /**
   * One message's turn on its thread, in steps: a pool slot, the turn's work under its deadline,
   * then its commit and `turn.completed`, or the failure policy; the slot, lease and deadline are
   * released either way, then the thread is free. One `async` function for all of it: a frame per
   * layer was garbage of every ask (bench/runtime section 4).
   */
  async #drive(driven: DrivenTurn): Promise<void> {
    const { delivery, threadId, lease } = driven;
    // Set when the turn aborted while its step loop ran: the abort ended the turn (see below).
    let abandoned = false;
    try {
      const waiting = this.#deps.pool.acquire(this.#reading.signal);
      if (waiting !== undefined && !(await this.#waitForSlot(waiting, delivery, lease))) return;
      const turnId = this.#deps.generateId();
      const started = this.#deps.clock.now();
      driven.turnId = turnId;
      driven.started = started;
      announceTurn(this.#deps, this.id, delivery, threadId, turnId);
      const opened = this.#openTurn();
      driven.turn = opened;
      driven.deadline = this.#deps.deadlines.add(this.spec.turnTimeoutMs, opened.expire, started);
      try {
        // Bounded even when something in the turn ignores the signal and never settles: the turn
        // is abandoned at its deadline (or when the agent stops), its late result ignored.
        const starting = this.#work.start(delivery, threadId, turnId, opened);
        const work = starting instanceof Promise ? await opened.race(starting, 'turn') : starting;
        // The step loop awaited as it is, guarded rather than raced (a race was 6% of an ask, see
        // `TurnSignal.guard`): if the turn aborts first, the guard ends it at once (its failure
        // policy, then its release) and the loop's late result is dropped here.
        const stepping = runTurnUnder(work.options, opened);
        let result: TurnResult;
        this.#abandon ??= this.#abandonTurn.bind(this);
        if (opened.guard(this.#abandon, driven, 'turn')) {
          try {
            result = await stepping;
          } finally {
            abandoned = !opened.unguard();
          }
          if (abandoned) return;
        } else result = await opened.race(stepping, 'turn');
        const replying = this.#work.reply(delivery.envelope, work, result, opened);
        if (replying !== undefined) await opened.race(replying, 'turn');
        // The commit: hooks (memory), then the context, then the ack. Not raced: abandoned half-way
        // (its context saved, its ack not sent) the message would be given back and its turn
        // replayed; close's own deadline bounds it. Here, not in an `async` function of its own: a
        // frame and a resume less per turn (bench/runtime section 4).
        const { contexts, bus } = this.#deps;
        if (this.#deps.commitHooks.length > 0)
          await this.#work.runCommitHooks(delivery, threadId, turnId, work, result, opened);
        const saving = contexts.append(work.context, [work.input, ...result.messages], this.spec.maxHistory, work.at);
        if (saving !== undefined) await saving; // undefined: kept by the in-process store already
        // An in-process bus acks at once: an `await` less per turn (bench/runtime section 4, sixth pass).
        const acking = bus.ackNow(this.id, [delivery.deliveryId]);
        if (acking !== undefined) await acking;
        this.#completed(delivery, threadId, turnId, started, result);
      } catch (thrown) {
        if (abandoned) return;
        await this.#failed(delivery, threadId, turnId, started, opened, thrown);
      }
    } catch (error) {
      this.#deps.logger.error({ agentId: this.id, error: this.#serialize(error) }, 'turn handling failed');
    } finally {
      if (!abandoned) this.#release(driven);
    }
  }

  /**
   * A turn that aborted while its step loop still ran: its failure policy and release, now. One
   * function for every turn of the agent, made by its first turn (an idle agent that never ran
   * one holds no functions of its turns: bench/runtime section 3).
   */
  #abandon: ((driven: DrivenTurn, thrown: unknown) => Promise<void>) | undefined;
  async #abandonTurn(driven: DrivenTurn, thrown: unknown): Promise<void> {
    const { delivery, threadId, turnId, started } = driven;
    try {
      await this.#failed(delivery, threadId, turnId, started, driven.turn as TurnSignal, thrown);
    } catch (error) {
      this.#deps.logger.error({ agentId: this.id, error: this.#serialize(error) }, 'turn handling failed');
    } finally {
      this.#release(driven);
    }
  }

  /** What a turn held goes back, whatever its end, and its thread is free. */
  #release(driven: DrivenTurn): void {
    if (driven.deadline !== undefined) this.#deps.deadlines.cancel(driven.deadline);
    if (driven.turn !== undefined) this.#closeTurn(driven.turn, driven.lease);
    this.#running.delete(driven.threadId);
    driven.end();
    if (this.#running.size === 0) this.#settle();
    this.#wakeUp();
  }

  /** The last running turn ended: go idle, or where a turn or the host decided. */
  #settle(): void {
    if (this.#machine.state !== 'running') return;
    const after = this.#pauses.after;
    this.#pauses.after = undefined;
    if (after === undefined) {
      this.#machine.transition('idle');
    } else if (after.kind === 'error') {
      this.#fail(after.error);
    } else if (after.kind === 'host') {
      this.#pauses.reason = { kind: 'host' };
      this.#machine.transition('paused', 'paused by host');
      this.#reading.abort();
    } else {
      this.#lastError = this.#serialize(after.error);
      this.#pauses.endIn({ kind: after.kind, error: this.#lastError }, after.delayMs);
      this.#machine.transition('paused', `${after.error.code}: retrying in ${after.delayMs} ms`);
      this.#reading.abort();
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

  /** The abort side of a new turn: the last turn's when it can serve again (see `TurnSignal.reusable`). */
  #openTurn(): TurnSignal {
    let turn = this.#spareTurn;
    if (turn === undefined) {
      this.#turnTimeout ??= () => this.#timedOut();
      turn = TurnSignal.own(new AbortController(), this.#turnTimeout);
    }
    this.#spareTurn = undefined;
    if (this.#halted !== undefined) turn.abort(this.#halted);
    this.#running.addSignal(turn);
    return turn;
  }

  /**
   * Why a turn aborts at its deadline: one function each turn signal keeps (see `TurnSignal.expire`),
   * made with the agent's first turn signal.
   */
  #turnTimeout: (() => AgentrixError) | undefined;
  #timedOut(): AgentrixError {
    return new AgentrixError('TURN_TIMEOUT', `Agent "${this.id}" turn exceeded ${this.spec.turnTimeoutMs} ms`, {
      agentId: this.id,
    });
  }

  /** A turn is stored and acked: count it, and the outage and budget streaks end. */
  #completed(delivery: Delivery, threadId: string, turnId: string, started: number, result: TurnResult): void {
    this.#turns++;
    this.#pauses.outages = 0;
    this.#pauses.budgetRefusals = 0;
    emitTurnCompleted(this.#deps, this.id, delivery, threadId, turnId, started, result);
  }

  /** Releases what a turn held, whatever its end: its lease, its signal (kept for the next turn when it can be) and its pool slot. */
  #closeTurn(turn: TurnSignal, lease: KeptLease): void {
    this.#deps.leases.release(lease);
    this.#running.removeSignal(turn);
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
        this.#pauses.decide({ kind: 'outage', error, delayMs: this.#pauses.outageDelay() });
        return;
      case 'budget':
        // Nothing was spent: keep the message and try again when the budget may have room. The
        // asker learns why now (once: a later refusal of the same message says nothing more); the
        // answer, when it comes, is a reply of its own.
        this.#hold(delivery);
        this.#pauses.budgetRefusals++;
        this.#pauses.decide({ kind: 'budget', error, delayMs: this.#pauses.budgetDelay(serialized) });
        if (this.#pauses.budgetRefusals === 1)
          await sendErrorReply(this.#deps, this.id, envelope, serialized, `${envelope.id}:paused`);
        return;
      case 'systemic':
        this.#pauses.decide({ kind: 'error', error });
        await bus.nack(this.id, delivery.deliveryId, { error }).catch(() => {});
        await sendErrorReply(this.#deps, this.id, envelope, serialized, envelope.id);
        return;
      case 'message':
        // This message failed: it goes back for redelivery (dead letter after the bus's
        // maxDeliveries) and the agent goes on. The asker hears of it on the last delivery.
        this.#lastError = serialized;
        logger.warn(fields, 'turn failed; message given back for redelivery');
        await bus.nack(this.id, delivery.deliveryId, { error }).catch(() => {});
        if (delivery.attempt >= bus.maxDeliveries)
          await sendErrorReply(this.#deps, this.id, envelope, serialized, envelope.id);
    }
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
