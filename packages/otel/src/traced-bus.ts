import type { BroadcastInput, MessageBus, MessageEnvelope, SendInput } from '@agentrix/core';
import { ForwardingBus } from '@agentrix/core/implement';
import { type Context, context, type Span, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { bounded } from './attributes.js';
import { ATTR } from './semantic.js';
import { toCarrier } from './trace-context.js';

/** Where a message sent from a running turn finds the turn's context. */
export interface ParentFinder {
  parentOf(agentId: string, threadId: string | undefined): Context | undefined;
}

/** Told of an error thrown by the tracer (a misconfigured provider): the message is sent untraced. */
export type TracingFailure = (where: string, error: unknown) => void;

/**
 * A {@link MessageBus} that gives every message it sends the trace context of its sender: a
 * `send <inbox>` producer span (the bus delivery), child of the sending turn (found by agent and
 * thread) or of the caller's active context (the host's `ask()` inside its own span), written to
 * `envelope.trace`. The turn that handles the message, in whatever process, is that span's child:
 * one `ask()` is one trace. A message that already carries a trace keeps it. Everything else is
 * the inner bus's, unchanged; closing this closes nothing (the inner bus has its owner).
 */
export class TracedBus extends ForwardingBus {
  readonly #tracer: Tracer;
  readonly #parents: ParentFinder;
  readonly #system: string;
  readonly #maxAttributeLength: number;
  readonly #onFailure: TracingFailure;

  constructor(
    inner: MessageBus,
    tracer: Tracer,
    parents: ParentFinder,
    maxAttributeLength: number,
    onFailure: TracingFailure,
  ) {
    super(inner);
    this.#onFailure = onFailure;
    this.#tracer = tracer;
    this.#parents = parents;
    this.#system = inner.constructor.name;
    this.#maxAttributeLength = maxAttributeLength;
  }

  override async send(input: SendInput): Promise<MessageEnvelope> {
    const span = input.trace === undefined ? this.#start(input.from, input.to, input.threadId) : undefined;
    if (span === undefined) return this.inner.send(input);
    const carrier = toCarrier(span.spanContext());
    try {
      const envelope = await this.inner.send(carrier === undefined ? input : { ...input, trace: carrier });
      if (span.isRecording()) this.#guard('send', () => span.setAttribute(ATTR.messageId, envelope.id));
      return envelope;
    } catch (error) {
      this.#guard('send', () => this.#failed(span, error));
      throw error;
    } finally {
      this.#guard('send', () => span.end());
    }
  }

  override async broadcast(input: BroadcastInput): Promise<MessageEnvelope[]> {
    const span = input.trace === undefined ? this.#start(input.from, input.group, input.threadId) : undefined;
    if (span === undefined) return this.inner.broadcast(input);
    const carrier = toCarrier(span.spanContext());
    try {
      return await this.inner.broadcast(carrier === undefined ? input : { ...input, trace: carrier });
    } catch (error) {
      this.#guard('broadcast', () => this.#failed(span, error));
      throw error;
    } finally {
      this.#guard('broadcast', () => span.end());
    }
  }

  /** The producer span, or none when the tracer throws (the message goes untraced, never unsent). */
  #start(from: string, to: string, threadId: string | undefined): Span | undefined {
    try {
      return this.#startSpan(from, to, threadId);
    } catch (error) {
      this.#onFailure('send', error);
      return undefined;
    }
  }

  #guard(where: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.#onFailure(where, error);
    }
  }

  #startSpan(from: string, to: string, threadId: string | undefined): Span {
    const span = this.#tracer.startSpan(
      `send ${to}`,
      { kind: SpanKind.PRODUCER },
      this.#parents.parentOf(from, threadId) ?? context.active(),
    );
    if (span.isRecording()) {
      span.setAttributes({
        [ATTR.messagingSystem]: this.#system,
        [ATTR.messagingOperation]: 'send',
        [ATTR.destination]: to,
        [ATTR.from]: from,
      });
    }
    return span;
  }

  #failed(span: Span, error: unknown): void {
    const code = (error as { code?: unknown })?.code;
    span.setAttribute(ATTR.errorType, typeof code === 'string' ? code : 'Error');
    const message = error instanceof Error ? error.message : String(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: bounded(message, this.#maxAttributeLength) });
  }
}
