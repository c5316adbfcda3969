import { EventEmitter } from 'eventemitter3';
import type { AgentSpec, AgentState } from './agent.js';
import type { FinishReason, ToolCall, Usage } from './chat.js';
import type { SerializedError } from './errors.js';
import type { MessageEnvelope } from './message.js';

/**
 * Every event Agentrix emits, by name: one typed map for one stream. Names are `noun.action`
 * and unique across packages. The runtime's and the bus's events are declared here; each other
 * package adds its own from its events file with declaration merging, so an `AgentrixEvents`
 * is typed with the events of every package the program imports:
 *
 * ```ts
 * declare module '@agentrix/core' {
 *   interface AgentrixEventMap extends GatewayEventMap {}
 * }
 * ```
 *
 * Two packages declaring one name with different payloads fail to compile.
 */
export interface AgentrixEventMap {
  'agent.created': { agentId: string; spec: AgentSpec };
  'agent.state': { agentId: string; from: AgentState; to: AgentState; reason?: string; at: number };
  'turn.started': { agentId: string; threadId: string; turnId: string; messageId: string; attempt: number };
  'turn.completed': {
    agentId: string;
    threadId: string;
    turnId: string;
    messageId: string;
    steps: number;
    usage: Usage;
    durationMs: number;
    stopReason: 'final' | 'max-steps';
    reply: string;
  };
  'turn.failed': {
    agentId: string;
    threadId: string;
    turnId: string;
    messageId: string;
    error: SerializedError;
    durationMs: number;
  };
  'model.token': { agentId: string; threadId: string; turnId: string; step: number; text: string };
  'model.responded': {
    agentId: string;
    turnId: string;
    step: number;
    model: string;
    usage: Usage;
    finishReason: FinishReason;
    durationMs: number;
  };
  'model.retry': {
    agentId: string;
    turnId: string;
    step: number;
    attempt: number;
    delayMs: number;
    error: SerializedError;
  };
  'tool.called': { agentId: string; threadId: string; turnId: string; toolCall: ToolCall };
  'tool.completed': {
    agentId: string;
    threadId: string;
    turnId: string;
    toolCallId: string;
    name: string;
    isError: boolean;
    durationMs: number;
    error?: SerializedError;
  };
  'message.sent': { envelope: MessageEnvelope };
  'message.received': { agentId: string; envelope: MessageEnvelope; attempt: number };
  'message.dead-lettered': { inbox: string; envelope: MessageEnvelope; attempts: number; error?: SerializedError };
}

export type AgentrixEventName = keyof AgentrixEventMap;

type Listeners = { [K in AgentrixEventName]: (event: AgentrixEventMap[K]) => void };

/**
 * The one typed event stream: give the same instance to the manager, the gateway, the skills,
 * the memory, the scheduler and the supervisor (their `events` option) and listen in one place.
 * Listeners run synchronously inside the emitting call, so keep them cheap (queue slow work
 * yourself).
 */
export class AgentrixEvents extends EventEmitter<Listeners> {
  #taps: readonly EventTap[] = [];

  /** True when someone listens (a tap listens to every name): lets hot paths skip building payloads. */
  has(name: AgentrixEventName): boolean {
    // eventemitter3's count of names listened to first: when nothing listens at all, a field read
    // instead of a call and a lookup (about ten checks an ask: 1.6% of it, bench/runtime section 4).
    // `!== 0`, not `> 0`: were the field ever gone (undefined), listenerCount still decides.
    return this.#taps.length > 0 || ((this as unknown as Counted)._eventsCount !== 0 && this.listenerCount(name) > 0);
  }

  /**
   * Calls `listener` with every event, whatever its name, before the event's own listeners (the
   * HTTP server's live stream: names added by packages it does not know included). Returns the
   * function that removes it. Untapped, `emit` is eventemitter3's own: a tap costs nothing until
   * one is added. A tap must not throw.
   */
  tap(listener: EventTap): () => void {
    this.#taps = [...this.#taps, listener];
    if (this.#taps.length === 1) {
      const emit = EventEmitter.prototype.emit;
      const tapped = (name: AgentrixEventName, event: unknown): boolean => {
        for (const tap of this.#taps) tap(name, event);
        return emit.call(this, name, event as never);
      };
      Object.defineProperty(this, 'emit', { value: tapped, configurable: true, writable: true });
    }
    return () => {
      const before = this.#taps.length;
      this.#taps = this.#taps.filter((tap) => tap !== listener);
      if (before > 0 && this.#taps.length === 0) delete (this as { emit?: unknown }).emit;
    };
  }
}

/** eventemitter3's own count of the event names that have listeners (it keeps it in every version). */
interface Counted {
  _eventsCount: number;
}

/** A listener of every event: its name and payload. */
export type EventTap = (name: AgentrixEventName, event: unknown) => void;
