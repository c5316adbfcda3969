/**
 * The turns of one agent, minus their commit and failure policy (`AgentRuntime`): a turn's work
 * (the router, the context, the model and tools, the reply) and its commit hooks, with the scope
 * its calls are charged to and the send / ask its tools get. One per agent, made once: nothing
 * here is allocated per turn beyond what the turn itself needs.
 */
import {
  type AgentContext,
  AgentrixError,
  type AgentSpec,
  type CallScope,
  type ChatMessage,
  type ChatModel,
  DEFAULT_THREAD,
  type DelegateInput,
  type Delivery,
  type MessageEnvelope,
  type SendInput,
  type ToolContext,
  type TurnCommit,
  type UserMessage,
} from '@agentrix/core';
import { sendReply } from './agent-replies.js';
import type { AgentRuntimeDependencies, AgentRuntimeParts } from './agent-runtime-dependencies.js';
import type { RunTurnOptions, TurnResult } from './run-turn.js';
import type { ToolSet } from './tool-set.js';
import { speakerName } from './turn-failure.js';
import { narrowToolSet } from './turn-router.js';
import type { TurnSignal } from './turn-signal.js';

/** Default wait of a delegated ask (`ToolContext.ask`), within the turn's own deadline. */
const DELEGATE_TIMEOUT_MS = 60_000;

/** A turn's work as its commit needs it: what it started from, and when it replied. */
export interface TurnWork {
  context: AgentContext;
  input: UserMessage;
  scope: CallScope;
  /** What the step loop (`runTurnUnder`) runs with. */
  options: RunTurnOptions;
  /** When the reply was sent (a clock reading), if the message asked for one: the context's `updatedAt`. */
  at: number | undefined;
}

export class AgentTurns {
  readonly #id: string;
  readonly #spec: AgentSpec;
  readonly #deps: AgentRuntimeDependencies;
  readonly #model: ChatModel;
  readonly #tools: ToolSet;
  /** The call scope of the main thread (other threads and handed-on scopes get their own). */
  readonly #scope: CallScope;

  constructor(deps: AgentRuntimeDependencies, parts: AgentRuntimeParts) {
    this.#id = parts.spec.id;
    this.#spec = parts.spec;
    this.#deps = deps;
    this.#model = parts.model;
    this.#tools = parts.tools;
    this.#scope = { ...parts.spec.scope, agentId: parts.spec.id };
  }

  /**
   * The start of a turn's work: the router, the context, the step loop's options. At once (no
   * promise) without a router and with the in-process context store. The caller runs the step
   * loop and {@link reply} itself, each raced against the turn's deadline: an `async` function
   * around them was a frame, a promise and an `await` more per ask (bench/runtime section 4, sixth pass).
   */
  start(delivery: Delivery, threadId: string, turnId: string, turn: TurnSignal): TurnWork | Promise<TurnWork> {
    const router = this.#deps.router;
    if (router && this.#tools.definitions.length > 0)
      return this.#startRouted(router, delivery, threadId, turnId, turn);
    const loading = this.#deps.contexts.loadForTurn(this.#id, threadId);
    return loading instanceof Promise
      ? loading.then((context) => this.#started(delivery.envelope, threadId, turnId, turn, this.#tools, context))
      : this.#started(delivery.envelope, threadId, turnId, turn, this.#tools, loading);
  }

  async #startRouted(
    router: NonNullable<AgentRuntimeDependencies['router']>,
    delivery: Delivery,
    threadId: string,
    turnId: string,
    turn: TurnSignal,
  ): Promise<TurnWork> {
    const { envelope } = delivery;
    const decision = await router.route(
      { agentId: this.#id, text: envelope.content, skills: this.#tools },
      { signal: turn.signal },
    );
    const tools = narrowToolSet(this.#tools, decision);
    const context = await this.#deps.contexts.loadForTurn(this.#id, threadId);
    return this.#started(envelope, threadId, turnId, turn, tools, context);
  }

  #started(
    envelope: MessageEnvelope,
    threadId: string,
    turnId: string,
    turn: TurnSignal,
    tools: ToolSet,
    context: AgentContext,
  ): TurnWork {
    const scope = this.#scopeOf(envelope, threadId);
    const input: UserMessage = { role: 'user', content: envelope.content, name: speakerName(envelope.from) };
    const options = this.#turnOptions(envelope, threadId, turnId, turn, tools, scope, [...context.messages, input]);
    return { context, input, scope, options, at: undefined };
  }

  /**
   * After the step loop: the reply to the asker, if the message asked for one (sets `work.at`).
   * Returns the bus's send to wait for, or nothing when the reply went to an ask of this manager
   * in process. A turn abandoned at its deadline must not answer (nor ack) late: it throws.
   */
  reply(envelope: MessageEnvelope, work: TurnWork, result: TurnResult, turn: TurnSignal): Promise<unknown> | undefined {
    turn.throwIfAborted('turn');
    if (!envelope.replyTo) return undefined;
    // One clock read for the reply and the context's save (53 ns each: bench/runtime section 4).
    work.at = this.#deps.clock.now();
    return sendReply(this.#deps, this.#id, envelope, envelope.replyTo, result.reply, work.at);
  }

  /** The commit hooks of a turn (memory's episodes): their writes land before its context and ack (`AgentRuntime`). */
  async runCommitHooks(
    delivery: Delivery,
    threadId: string,
    turnId: string,
    { input, scope }: TurnWork,
    result: TurnResult,
    turn: TurnSignal,
  ): Promise<void> {
    const commit: TurnCommit = {
      agentId: this.#id,
      threadId,
      turnId,
      messageId: delivery.envelope.id,
      scope,
      input,
      messages: result.messages,
      reply: result.reply,
      signal: turn.signal,
    };
    // Part of the commit: a hook's writes land before the ack, or the turn fails.
    for (const hook of this.#deps.commitHooks) await hook(commit);
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
    const spec = this.#spec;
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
      agentId: this.#id,
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

  /**
   * Whom a turn's calls are charged to: the spec's scope and the agent, the thread when it is
   * not `main`, and the user / workflow / tags a delegating sender handed on (its budget).
   */
  #scopeOf(envelope: MessageEnvelope, threadId: string): CallScope {
    if (threadId === DEFAULT_THREAD && envelope.scope === undefined) return this.#scope;
    const scope: CallScope = { ...this.#scope, ...envelope.scope, agentId: this.#id };
    if (threadId !== DEFAULT_THREAD) scope.threadId = threadId;
    return scope;
  }

  /** Sends as this agent, in the turn's thread; replies come back to it unless the tool says otherwise. */
  #sendAs(input: Parameters<ToolContext['send']>[0], threadId: string) {
    const thread = threadId === DEFAULT_THREAD ? undefined : threadId;
    return this.#deps.send({
      replyTo: this.#id,
      ...(thread !== undefined ? { threadId: thread } : {}),
      ...input,
      from: this.#id,
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
    const via = envelope.via === undefined ? [this.#id] : [...envelope.via, this.#id];
    if (typeof input?.to !== 'string' || typeof input.content !== 'string') {
      return Promise.reject(
        new AgentrixError('INVALID_ARGUMENT', 'ask expects { to: agent id, content: text }', { agentId: this.#id }),
      );
    }
    if (via.includes(input.to)) {
      return Promise.reject(
        new AgentrixError(
          'DELEGATION_CYCLE',
          `Agent "${this.#id}" cannot ask "${input.to}": it is already on the delegation path ${[...via, input.to].join(' -> ')}`,
          { agentId: this.#id, details: { via, to: input.to } },
        ),
      );
    }
    const handed: NonNullable<MessageEnvelope['scope']> = {};
    if (scope.userId !== undefined) handed.userId = scope.userId;
    if (scope.workflowId !== undefined) handed.workflowId = scope.workflowId;
    if (scope.tags !== undefined) handed.tags = scope.tags;
    return this.#deps.ask({
      from: this.#id,
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
}
