import type { AgentrixEventMap, MessageEnvelope } from '@agentrix/core';
import { DEFAULT_THREAD } from '@agentrix/core';
import {
  type Attributes,
  type Context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { bounded, contentAttribute } from './attributes.js';
import { ATTR } from './semantic.js';
import { contextOf } from './trace-context.js';

/** How spans record content and bound attribute values (see `TelemetryOptions`). */
export interface SpanPolicy {
  recordContent: boolean;
  maxAttributeLength: number;
  secrets: readonly string[];
}

interface TurnTrace {
  span: Span;
  context: Context;
  agentId: string;
  threadKey: string;
  costUsd: number;
}

/** The gateway's events this listens to, declared structurally (no dependency on the gateway). */
export interface GatewaySignals {
  'gateway.degraded': {
    scope: { agentId?: string; threadId?: string };
    step: string;
    reason: string;
    budget?: string;
  };
  'ledger.recorded': { record: { agentId?: string; model: string; costUsd: number } };
}

const key = (agentId: string, id: string) => `${agentId}\u0000${id}`;

/**
 * Spans built from the one event stream, so the runtime's hot path carries no tracing code: a
 * turn span (`invoke_agent <agent>`) whose parent is the trace context its message carried, and
 * under it a span per model call (`chat <model>`, timed from `model.responded`'s duration) and
 * per tool call (`execute_tool <tool>`). It also names the running turn of an (agent, thread),
 * so a message the turn sends continues the turn's trace (`parentOf`).
 */
export class TurnSpans {
  readonly #tracer: Tracer;
  readonly #policy: SpanPolicy;
  /** `message.received` comes right before its `turn.started`: the envelope waits here for it. */
  readonly #received = new Map<string, { envelope: MessageEnvelope; attempt: number }>();
  readonly #turns = new Map<string, TurnTrace>();
  /** Turns of one thread run one after another, so (agent, thread) names at most one running turn. */
  readonly #threads = new Map<string, TurnTrace>();
  readonly #tools = new Map<string, Span>();
  /** Running turns per agent: a ledger record names an agent, not a thread. */
  readonly #perAgent = new Map<string, number>();

  constructor(tracer: Tracer, policy: SpanPolicy) {
    this.#tracer = tracer;
    this.#policy = policy;
  }

  /** The context of the turn `agentId` is running on `threadId`, if any. */
  parentOf(agentId: string, threadId: string | undefined): Context | undefined {
    return this.#threads.get(key(agentId, threadId ?? DEFAULT_THREAD))?.context;
  }

  /** Spans still open (turns and tool calls): 0 once every turn ended. */
  get open(): number {
    return this.#turns.size + this.#tools.size;
  }

  received({ agentId, envelope, attempt }: AgentrixEventMap['message.received']): void {
    this.#received.set(key(agentId, envelope.id), { envelope, attempt });
  }

  turnStarted({ agentId, turnId, messageId, attempt }: AgentrixEventMap['turn.started']): void {
    const receivedKey = key(agentId, messageId);
    const envelope = this.#received.get(receivedKey)?.envelope;
    this.#received.delete(receivedKey);
    const threadId = envelope?.threadId ?? DEFAULT_THREAD;
    const parent = contextOf(envelope?.trace);
    const span = this.#tracer.startSpan(`invoke_agent ${agentId}`, { kind: SpanKind.CONSUMER }, parent);
    // Attributes only for a span that records: with no SDK installed, a turn costs a few map operations.
    if (span.isRecording()) {
      span.setAttributes({
        [ATTR.operation]: 'invoke_agent',
        [ATTR.agentId]: agentId,
        [ATTR.agentName]: agentId,
        [ATTR.conversation]: threadId,
        [ATTR.thread]: threadId,
        [ATTR.turnId]: turnId,
        [ATTR.messageId]: messageId,
        [ATTR.attempt]: attempt,
      });
      if (envelope) {
        span.setAttribute(ATTR.from, envelope.from);
        if (this.#policy.recordContent) {
          span.setAttribute(
            ATTR.inputMessages,
            this.#content([{ role: 'user', parts: [{ type: 'text', content: envelope.content }] }]),
          );
        }
      }
    }
    const turn: TurnTrace = {
      span,
      context: trace.setSpan(parent, span),
      agentId,
      threadKey: key(agentId, threadId),
      costUsd: 0,
    };
    this.#turns.set(turnId, turn);
    this.#threads.set(turn.threadKey, turn);
    this.#perAgent.set(agentId, (this.#perAgent.get(agentId) ?? 0) + 1);
  }

  modelResponded(event: AgentrixEventMap['model.responded']): void {
    const turn = this.#turns.get(event.turnId);
    // Sub-millisecond, from the clock the SDK measures durations with (its default span starts
    // are Date.now(), whole milliseconds: spans within one millisecond may sort either way).
    const end = performance.timeOrigin + performance.now();
    const span = this.#tracer.startSpan(
      `chat ${event.model}`,
      { kind: SpanKind.CLIENT, startTime: end - event.durationMs },
      turn?.context,
    );
    if (span.isRecording()) {
      span.setAttributes({
        [ATTR.operation]: 'chat',
        [ATTR.requestModel]: event.model,
        [ATTR.responseModel]: event.model,
        [ATTR.inputTokens]: event.usage.inputTokens,
        [ATTR.outputTokens]: event.usage.outputTokens,
        [ATTR.finishReasons]: [event.finishReason],
        [ATTR.agentId]: event.agentId,
        [ATTR.step]: event.step,
      });
    }
    span.end(end);
  }

  modelRetry(event: AgentrixEventMap['model.retry']): void {
    this.#turns.get(event.turnId)?.span.addEvent('model.retry', {
      [ATTR.step]: event.step,
      attempt: event.attempt,
      delay_ms: event.delayMs,
      [ATTR.errorType]: event.error.code ?? event.error.name,
    });
  }

  toolCalled({ agentId, turnId, toolCall }: AgentrixEventMap['tool.called']): void {
    const span = this.#tracer.startSpan(
      `execute_tool ${toolCall.name}`,
      { kind: SpanKind.INTERNAL },
      this.#turns.get(turnId)?.context,
    );
    if (span.isRecording()) {
      span.setAttributes({
        [ATTR.operation]: 'execute_tool',
        [ATTR.toolName]: toolCall.name,
        [ATTR.toolCallId]: toolCall.id,
        [ATTR.agentId]: agentId,
      });
      if (this.#policy.recordContent) span.setAttribute(ATTR.toolArguments, this.#content(toolCall.arguments));
    }
    this.#tools.set(key(turnId, toolCall.id), span);
  }

  toolCompleted(event: AgentrixEventMap['tool.completed']): void {
    const toolKey = key(event.turnId, event.toolCallId);
    const span = this.#tools.get(toolKey);
    if (span === undefined) return;
    this.#tools.delete(toolKey);
    if (event.isError) {
      span.setAttribute(ATTR.errorType, event.error?.code ?? 'tool_error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: this.#text(event.error?.message ?? 'tool failed') });
    }
    span.end();
  }

  turnCompleted(event: AgentrixEventMap['turn.completed']): void {
    const turn = this.#end(event.turnId);
    if (turn === undefined) return;
    const { span } = turn;
    span.setAttributes({
      [ATTR.inputTokens]: event.usage.inputTokens,
      [ATTR.outputTokens]: event.usage.outputTokens,
      [ATTR.steps]: event.steps,
      [ATTR.stopReason]: event.stopReason,
      [ATTR.outcome]: 'completed',
    });
    if (turn.costUsd > 0) span.setAttribute(ATTR.costUsd, turn.costUsd);
    if (this.#policy.recordContent) {
      span.setAttribute(
        ATTR.outputMessages,
        this.#content([{ role: 'assistant', parts: [{ type: 'text', content: event.reply }] }]),
      );
    }
    span.end();
  }

  turnFailed(event: AgentrixEventMap['turn.failed']): void {
    const turn = this.#end(event.turnId);
    if (turn === undefined) return;
    const { span } = turn;
    span.setAttributes({ [ATTR.outcome]: 'failed', [ATTR.errorType]: event.error.code ?? event.error.name });
    if (turn.costUsd > 0) span.setAttribute(ATTR.costUsd, turn.costUsd);
    // The serialized error is redacted already (every AgentrixError is born redacted).
    span.setStatus({ code: SpanStatusCode.ERROR, message: this.#text(event.error.message) });
    span.end();
  }

  degraded(event: GatewaySignals['gateway.degraded']): void {
    const agentId = event.scope.agentId;
    if (agentId === undefined) return;
    const turn = this.#threads.get(key(agentId, event.scope.threadId ?? DEFAULT_THREAD));
    if (turn === undefined) return;
    const attributes: Attributes = {
      [ATTR.degradationStep]: event.step,
      [ATTR.degradationReason]: event.reason,
      ...(event.budget !== undefined ? { [ATTR.budget]: event.budget } : {}),
    };
    turn.span.setAttributes(attributes);
    turn.span.addEvent('gateway.degraded', attributes);
  }

  /** A charged call: its cost adds to the agent's running turn (when it runs one turn only: a record names no thread). */
  recorded({ record }: GatewaySignals['ledger.recorded']): void {
    if (record.agentId === undefined || record.costUsd <= 0 || this.#perAgent.get(record.agentId) !== 1) return;
    for (const turn of this.#turns.values()) {
      if (turn.agentId === record.agentId) {
        turn.costUsd += record.costUsd;
        return;
      }
    }
  }

  #end(turnId: string): TurnTrace | undefined {
    const turn = this.#turns.get(turnId);
    if (turn === undefined) return undefined;
    this.#turns.delete(turnId);
    if (this.#threads.get(turn.threadKey) === turn) this.#threads.delete(turn.threadKey);
    const running = (this.#perAgent.get(turn.agentId) ?? 1) - 1;
    if (running > 0) this.#perAgent.set(turn.agentId, running);
    else this.#perAgent.delete(turn.agentId);
    // A tool call the turn abandoned (deadline, stop) ends with it.
    const prefix = `${turnId}\u0000`;
    for (const [toolKey, span] of this.#tools) {
      if (!toolKey.startsWith(prefix)) continue;
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'abandoned with its turn' });
      span.end();
      this.#tools.delete(toolKey);
    }
    return turn;
  }

  #content(value: unknown): string {
    return contentAttribute(value, this.#policy.secrets, this.#policy.maxAttributeLength);
  }

  #text(text: string): string {
    return bounded(text, this.#policy.maxAttributeLength);
  }
}
