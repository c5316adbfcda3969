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
import { type RunTurnOptions, runTurnUnder, type TurnResult } from './run-turn.js';
import type { ToolSet } from './tool-set.js';
import { speakerName } from './turn-failure.js';
import { narrowToolSet } from './turn-router.js';
import type { TurnSignal } from './turn-signal.js';

/** Default wait of a delegated ask (`ToolContext.ask`), within the turn's own deadline. */
const DELEGATE_TIMEOUT_MS = 60_000;

/** What a turn's work leaves for its commit. */
export interface TurnWork {
  result: TurnResult;
  context: AgentContext;
  input: UserMessage;
  scope: CallScope;
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

  /** The work of a turn, raced against its deadline by the caller: the model, the tools, the reply. */
  async work(delivery: Delivery, threadId: string, turnId: string, turn: TurnSignal): Promise<TurnWork> {
    const { contexts } = this.#deps;
    const { envelope } = delivery;
    let tools = this.#tools;
    const router = this.#deps.router;
    if (router && tools.definitions.length > 0) {
      const decision = await router.route(
        { agentId: this.#id, text: envelope.content, skills: tools },
        { signal: turn.signal },
      );
      tools = narrowToolSet(tools, decision);
    }
    const scope = this.#scopeOf(envelope, threadId);
    // The in-process store answers at once: an `await` less per turn (bench/runtime section 4, fifth pass).
    const loading = contexts.loadForTurn(this.#id, threadId);
    const context = loading instanceof Promise ? await loading : loading;
    const input: UserMessage = { role: 'user', content: envelope.content, name: speakerName(envelope.from) };
    const options = this.#turnOptions(envelope, threadId, turnId, turn, tools, scope, [...context.messages, input]);
    const result = await runTurnUnder(options, turn);
    // A turn abandoned at its deadline must not answer or ack late.
    turn.throwIfAborted('turn');
    let at: number | undefined;
    if (envelope.replyTo) {
      // One clock read for the reply and the context's save (53 ns each: bench/runtime section 4).
      at = this.#deps.clock.now();
      // Nothing to wait for when the reply went to an ask of this manager in process.
      const sent = sendReply(this.#deps, this.#id, envelope, envelope.replyTo, result.reply, at);
      if (sent !== undefined) await sent;
    }
    return { result, context, input, scope, at };
  }

  /** The commit hooks of a turn (memory's episodes): their writes land before its context and ack (`AgentRuntime`). */
  async runCommitHooks(
    delivery: Delivery,
    threadId: string,
    turnId: string,
    { result, input, scope }: TurnWork,
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
