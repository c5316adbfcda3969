import {
  AgentrixError,
  type AgentrixEvents,
  type AssistantMessage,
  addUsage,
  type CallScope,
  type ChatMessage,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type ChatStreamPart,
  type Clock,
  DEFAULT_THREAD,
  emptyUsage,
  type Logger,
  type RetryPolicy,
  systemClock,
  type ToolContext,
  type Usage,
} from '@agentrix/core';
import { checkedResponse, type ModelCallContext, openModelStream, retryModelCall, streamPart } from './model-call.js';
import {
  runToolCallsInOrder,
  sequentialToolExecutor,
  type ToolExecutionContext,
  type ToolExecutor,
} from './tool-execution.js';
import { emptyToolSet, type ToolSet } from './tool-set.js';
import { TurnSignal } from './turn-signal.js';

export interface RunTurnOptions {
  model: ChatModel;
  /** History followed by the new input. Not modified. */
  messages: readonly ChatMessage[];
  /** The system prompt, sent first when not empty. */
  instructions?: string;
  tools?: ToolSet;
  /** Runs each step's tool calls. Default: one at a time, in order (`sequentialToolExecutor`). */
  toolExecutor?: ToolExecutor;
  /** Model calls before the turn stops. Default 8. */
  maxSteps?: number;
  /** Use `model.stream` and emit `model.token` events. Default true. */
  stream?: boolean;
  /** Retries of a failing model call. Default: 3 attempts from 250 ms. */
  modelRetry?: RetryPolicy;
  tier?: string;
  scope?: CallScope;
  agentId?: string;
  turnId?: string;
  signal?: AbortSignal;
  events?: AgentrixEvents;
  clock?: Clock;
  /** How tools send messages; tools that send fail without it. */
  send?: ToolContext['send'];
  /** How tools ask other agents (delegation); tools that ask fail without it. */
  ask?: ToolContext['ask'];
  /** The conversation of the turn, for tools. Default `main`. */
  threadId?: string;
  /** Deadline of each tool call that sets no `timeoutMs` of its own. Default 60 s (`DEFAULT_TOOL_TIMEOUT_MS`). */
  toolTimeoutMs?: number;
  /** Host secrets removed from tool errors before the model, events and logs see them. */
  secrets?: readonly string[];
  /** Where retries are logged. Default: nowhere. */
  logger?: Logger;
}

export interface TurnResult {
  /** The final text of the turn. */
  reply: string;
  /** What the turn added to the conversation: assistant and tool messages, in order. */
  messages: ChatMessage[];
  steps: number;
  usage: Usage;
  stopReason: 'final' | 'max-steps';
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 250, maxDelayMs: 10_000 };

const noSend: ToolContext['send'] = () => {
  throw new AgentrixError('TOOL_FAILED', 'This turn has no message bus: tools cannot send messages here');
};

const noAsk: ToolContext['ask'] = () =>
  Promise.reject(new AgentrixError('TOOL_FAILED', 'This turn has no agents to ask: run it in an AgentManager'));

/**
 * The step loop of one turn: call the model; if it asks for tools, run them and call it
 * again with the results; stop at a final answer or after `maxSteps` model calls.
 * It owns no state, so it can be called directly (that is what `bench/runtime` measures).
 */
export function runTurn(options: RunTurnOptions): Promise<TurnResult> {
  const turn = TurnSignal.following(options.signal);
  const result = runTurnUnder(options, turn);
  // Bounded by the caller's signal even when a model or tool ignores it (the runtime races its own turns).
  return options.signal === undefined ? result : turn.race(result, 'turn');
}

/**
 * {@link runTurn} under a turn signal of the runtime's (`options.signal` is not read). Not raced
 * against `turn` inside: the caller races the whole turn (one race per turn, not one per model
 * call and tool step); a late model answer or tool result after the abort goes no further.
 */
export async function runTurnUnder(options: RunTurnOptions, turn: TurnSignal): Promise<TurnResult> {
  const {
    model,
    tools = emptyToolSet,
    toolExecutor = sequentialToolExecutor,
    maxSteps = 8,
    stream = true,
    modelRetry = DEFAULT_RETRY,
    agentId = 'agent',
    turnId = 'turn',
    events,
    clock = systemClock,
  } = options;
  const conversation: ChatMessage[] = options.instructions
    ? [{ role: 'system', content: options.instructions }, ...options.messages]
    : options.messages.slice();
  const added: ChatMessage[] = [];
  const usage = emptyUsage();
  const toolContext: ToolExecutionContext = {
    agentId,
    turnId,
    signal: turn.signal,
    clock,
    events,
    send: options.send ?? noSend,
    ask: options.ask ?? noAsk,
    threadId: options.threadId ?? DEFAULT_THREAD,
    toolTimeoutMs: options.toolTimeoutMs,
    secrets: options.secrets,
  };
  // One context for the turn's model calls, its step set before each (a literal per step was garbage).
  const call: ModelCallContext = {
    agentId,
    threadId: toolContext.threadId,
    turnId,
    step: 0,
    retry: modelRetry,
    clock,
    events,
    turn,
    logger: options.logger,
    secrets: options.secrets,
  };
  let last: AssistantMessage | undefined;
  for (let step = 1; step <= maxSteps; step++) {
    turn.throwIfAborted('turn');
    const request: ChatRequest = { messages: conversation.slice() };
    if (tools.definitions.length > 0) request.tools = tools.definitions as ChatRequest['tools'];
    if (options.tier !== undefined) request.tier = options.tier;
    if (options.scope !== undefined) request.scope = options.scope;
    request.signal = turn.signal;
    // Timed only when someone listens at the call's start (a clock read is 70 ns, bench/runtime section 4).
    const started = events?.has('model.responded') ? clock.now() : -1;
    call.step = step;
    // The model call, read here rather than in an `async` function of its own (see `model-call.ts`).
    let response: ChatResponse | undefined;
    for (let attempt = 1; response === undefined; attempt++) {
      let parts: AsyncIterator<ChatStreamPart> | undefined;
      try {
        if (stream) {
          parts = openModelStream(model, request, call);
          const tokens = events?.has('model.token') ? events : undefined;
          let answer: ChatResponse | undefined;
          for (let next = await parts.next(); !next.done; next = await parts.next()) {
            answer = streamPart(next.value, call, tokens);
            if (answer === undefined) continue;
            // Let the model finish its own bookkeeping (the gateway settles the budget and writes
            // the ledger when its stream ends) before the turn goes on.
            await parts.return?.();
            break;
          }
          turn.streamEnded(parts);
          response = checkedResponse(model, answer, true);
        } else {
          response = checkedResponse(model, await model.generate(request), false);
        }
      } catch (thrown) {
        if (parts !== undefined) turn.streamEnded(parts);
        await retryModelCall(model, thrown, attempt, call);
      }
    }
    turn.throwIfAborted('turn');
    addUsage(usage, response.usage);
    if (started >= 0 && events?.has('model.responded')) {
      events.emit('model.responded', {
        agentId,
        turnId,
        step,
        model: response.model,
        usage: response.usage,
        finishReason: response.finishReason,
        durationMs: clock.now() - started,
      });
    }
    last = response.message;
    conversation.push(last);
    added.push(last);
    const calls = last.toolCalls;
    if (!calls || calls.length === 0) {
      return { reply: last.content, messages: added, steps: step, usage, stopReason: 'final' };
    }
    // The built-in executor answers at once when every tool returned synchronously: no await then.
    const running =
      toolExecutor === sequentialToolExecutor
        ? runToolCallsInOrder(calls, tools, toolContext)
        : toolExecutor.executeToolCalls(calls, tools, toolContext);
    const results = Array.isArray(running) ? running : await running;
    for (const result of results) {
      conversation.push(result);
      added.push(result);
    }
  }
  return { reply: last?.content ?? '', messages: added, steps: maxSteps, usage, stopReason: 'max-steps' };
}
