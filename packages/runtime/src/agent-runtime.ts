import {
  type AgentContext,
  type AgentRegistry,
  AgentrixError,
  type AgentrixEvents,
  type AgentSpec,
  type AgentState,
  type CallScope,
  type ChatModel,
  type Clock,
  type Delivery,
  type IdGenerator,
  type Logger,
  type MessageBus,
  type SerializedError,
  serializeError,
  type ToolContext,
  toAgentrixError,
  type UserMessage,
} from '@agentrix/core';
import type { AgentPool } from './agent-pool.js';
import { AgentStateMachine } from './agent-state-machine.js';
import type { ContextManager } from './context-manager.js';
import { runTurn, type TurnResult } from './run-turn.js';
import type { ToolSet } from './tool-set.js';

/** What an {@link AgentRuntime} is built from (the factory wires these). */
export interface AgentRuntimeDependencies {
  spec: AgentSpec;
  model: ChatModel;
  tools: ToolSet;
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
}

/**
 * The loop of one agent: block until a message arrives, run a turn for it, send the reply,
 * save the context, ack; repeat. An idle agent is one pending `bus.read` and costs no CPU.
 *
 * A turn that fails after the model's retries (or times out) puts the agent in `error` and
 * gives the message back to the bus (nack), so it is redelivered when the agent resumes and
 * goes to dead letter after the bus's `maxDeliveries`. Nothing is acked before the turn's
 * reply and context are stored.
 */
export class AgentRuntime {
  readonly spec: AgentSpec;
  readonly #deps: AgentRuntimeDependencies;
  readonly #machine: AgentStateMachine;
  readonly #scope: CallScope;
  /** Aborted on terminate/stop: ends reads, turns and waits. */
  readonly #lifetime = new AbortController();
  #readController: AbortController | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #held: Delivery | undefined;
  #pauseRequested = false;
  #stopping = false;
  #turns = 0;
  #lastError: SerializedError | undefined;

  constructor(deps: AgentRuntimeDependencies, initialState: AgentState = 'created', lastError?: SerializedError) {
    this.#lastError = lastError;
    this.#deps = deps;
    this.spec = deps.spec;
    this.#scope = { ...deps.spec.scope, agentId: deps.spec.id };
    this.#machine = new AgentStateMachine(deps.spec.id, deps.events, deps.clock, initialState, (from, to) =>
      this.#persistState(from, to),
    );
  }

  /** Resolves when every state change so far is recorded in the registry. */
  flushState(): Promise<void> {
    return this.#persisted;
  }

  #persisted: Promise<void> = Promise.resolve();

  #persistState(from: AgentState, to: AgentState): void {
    // A turn's idle -> running -> idle costs no write: running is stored as idle.
    if (to === 'running' || (from === 'running' && to === 'idle')) return;
    const { registry, logger } = this.#deps;
    const lastError = to === 'error' ? this.#lastError : undefined;
    this.#persisted = this.#persisted
      .then(() => registry.setState(this.id, to, lastError))
      .catch((error: unknown) =>
        logger.error('agent state not recorded', { agentId: this.id, state: to, error: serializeError(error) }),
      );
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

  /** created -> idle, and the loop starts reading. */
  start(): void {
    this.#machine.transition('idle', 'started');
    this.#loop ??= this.#run();
  }

  /** Stops taking messages. A running turn finishes first; messages wait in the inbox. */
  pause(): void {
    const state = this.#machine.state;
    if (state === 'paused') return;
    if (state === 'running') {
      this.#pauseRequested = true;
      return;
    }
    this.#machine.transition('paused', 'paused by host');
    this.#readController?.abort();
  }

  /** paused or error -> idle: the loop takes messages again (a failed one is redelivered). */
  resume(): void {
    const state = this.#machine.state;
    if (state === 'running' && this.#pauseRequested) {
      this.#pauseRequested = false;
      return;
    }
    if (state === 'idle') return;
    if (state === 'created') {
      throw new AgentrixError(
        'ILLEGAL_STATE_TRANSITION',
        `Agent "${this.id}" has not been started; call start() instead of resume()`,
        {
          agentId: this.id,
          details: { from: state, to: 'idle' },
        },
      );
    }
    this.#machine.transition('idle', state === 'error' ? 'resumed after error' : 'resumed');
    this.#lastError = undefined;
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
    this.#lifetime.abort(new AgentrixError('ABORTED', `Agent "${this.id}" stopped`, { agentId: this.id }));
    this.#wakeUp();
    await this.#loop;
    if (this.#held) {
      const held = this.#held;
      this.#held = undefined;
      await this.#deps.bus.nack(this.id, held.deliveryId).catch(() => {});
    }
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #done(): boolean {
    return this.#stopping || this.#machine.state === 'terminated';
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
      if (!delivery) {
        const controller = new AbortController();
        this.#readController = controller;
        const onStop = () => controller.abort();
        this.#lifetime.signal.addEventListener('abort', onStop, { once: true });
        try {
          const deliveries = await bus.read(this.id, { consumer, max: 1, signal: controller.signal });
          delivery = deliveries[0];
        } catch (error) {
          if (!controller.signal.aborted) {
            logger.error('agent read failed', { agentId: this.id, error: serializeError(error) });
            await this.#fail(toAgentrixError(error, 'BUS_UNAVAILABLE'));
          }
          continue;
        } finally {
          this.#lifetime.signal.removeEventListener('abort', onStop);
          this.#readController = undefined;
        }
      }
      if (!delivery) continue;
      if (this.#machine.state !== 'idle' || this.#done()) {
        this.#held = delivery;
        continue;
      }
      await this.#handle(delivery);
    }
  }

  async #handle(delivery: Delivery): Promise<void> {
    const { pool, events, clock, generateId } = this.#deps;
    const waiting = pool.acquire(this.#lifetime.signal);
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
    this.#machine.transition('running', `message ${envelope.id}`);
    if (events.has('message.received')) {
      events.emit('message.received', { agentId: this.id, envelope, attempt: delivery.attempt });
    }
    if (events.has('turn.started')) {
      events.emit('turn.started', { agentId: this.id, turnId, messageId: envelope.id, attempt: delivery.attempt });
    }
    const controller = new AbortController();
    const onStop = () => controller.abort(this.#lifetime.signal.reason);
    this.#lifetime.signal.addEventListener('abort', onStop, { once: true });
    const timer = clock.setTimeout(() => {
      controller.abort(
        new AgentrixError('TURN_TIMEOUT', `Agent "${this.id}" turn exceeded ${this.spec.turnTimeoutMs} ms`, {
          agentId: this.id,
        }),
      );
    }, this.spec.turnTimeoutMs);
    try {
      const result = await this.#turn(delivery, turnId, controller.signal);
      this.#turns++;
      if (this.#machine.state === 'running') {
        this.#machine.transition(
          this.#pauseRequested ? 'paused' : 'idle',
          this.#pauseRequested ? 'paused by host' : undefined,
        );
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
      const stopped = this.#lifetime.signal.aborted;
      const error = toAgentrixError(
        controller.signal.aborted && !stopped ? (controller.signal.reason ?? thrown) : thrown,
      );
      if (events.has('turn.failed')) {
        events.emit('turn.failed', {
          agentId: this.id,
          turnId,
          messageId: envelope.id,
          error: serializeError(error),
          durationMs: clock.now() - started,
        });
      }
      if (stopped) {
        // Terminated or stopped mid-turn: the message goes back, unprocessed.
        await this.#deps.bus.nack(this.id, delivery.deliveryId).catch(() => {});
      } else {
        await this.#deps.bus.nack(this.id, delivery.deliveryId, { error }).catch(() => {});
        await this.#fail(error);
      }
    } finally {
      clock.clearTimeout(timer);
      this.#lifetime.signal.removeEventListener('abort', onStop);
      pool.release();
    }
  }

  async #turn(delivery: Delivery, turnId: string, signal: AbortSignal): Promise<TurnResult> {
    const { bus, contexts, events, model, tools, clock } = this.#deps;
    const { envelope } = delivery;
    const spec = this.spec;
    const context: AgentContext = await contexts.load(this.id);
    const input: UserMessage = { role: 'user', content: envelope.content, name: envelope.from };
    const result = await runTurn({
      model,
      instructions: spec.instructions,
      messages: context.messages.length > 0 ? [...context.messages, input] : [input],
      tools,
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
      send: this.#send,
    });
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
    await contexts.append(context, [input, ...result.messages], spec.maxHistory);
    await bus.ack(this.id, [delivery.deliveryId]);
    return result;
  }

  readonly #send: ToolContext['send'] = (input) =>
    this.#deps.send({ replyTo: this.id, ...input, from: this.id } as Parameters<MessageBus['send']>[0]);

  async #fail(error: AgentrixError): Promise<void> {
    this.#lastError = serializeError(error);
    this.#pauseRequested = false;
    if (this.#machine.can('error')) this.#machine.transition('error', error.message);
  }
}
