import type { BroadcastInput, MessageEnvelope, SendInput } from './message.js';
import type {
  DeadLetter,
  Delivery,
  InboxStats,
  MessageBus,
  NackOptions,
  ReadOptions,
  RedriveOptions,
} from './message-bus.js';

/**
 * A {@link MessageBus} that hands every call to another one: the base of wrappers that change a
 * few calls and leave the rest alone (the runtime's lifecycle bus changes `read`, telemetry's
 * traced bus `send` and `broadcast`). Closing it closes nothing: the inner bus belongs to whoever
 * made it.
 */
export class ForwardingBus implements MessageBus {
  /** The bus it wraps. */
  readonly inner: MessageBus;

  constructor(inner: MessageBus) {
    this.inner = inner;
  }

  get leaseMs(): number {
    return this.inner.leaseMs;
  }
  get maxDeliveries(): number {
    return this.inner.maxDeliveries;
  }
  send(input: SendInput): Promise<MessageEnvelope> {
    return this.inner.send(input);
  }
  /** The inner bus's `sendNow`, unless a subclass changed `send`: then that `send`. */
  sendNow(input: SendInput): MessageEnvelope | Promise<MessageEnvelope> {
    return this.send === ForwardingBus.prototype.send ? this.inner.sendNow(input) : this.send(input);
  }
  broadcast(input: BroadcastInput): Promise<MessageEnvelope[]> {
    return this.inner.broadcast(input);
  }
  read(inbox: string, options?: ReadOptions): Promise<Delivery[]> {
    return this.inner.read(inbox, options);
  }
  ack(inbox: string, deliveryIds: readonly string[]): Promise<void> {
    return this.inner.ack(inbox, deliveryIds);
  }
  /** The inner bus's `ackNow`, unless a subclass changed `ack`: then that `ack`. */
  ackNow(inbox: string, deliveryIds: readonly string[]): Promise<void> | undefined {
    return this.ack === ForwardingBus.prototype.ack
      ? this.inner.ackNow(inbox, deliveryIds)
      : this.ack(inbox, deliveryIds);
  }
  extendLease(inbox: string, deliveryIds: readonly string[], options?: { consumer?: string }): Promise<number> {
    return this.inner.extendLease(inbox, deliveryIds, options);
  }
  nack(inbox: string, deliveryId: string, options?: NackOptions): Promise<void> {
    return this.inner.nack(inbox, deliveryId, options);
  }
  releaseConsumer(inbox: string, consumer: string): Promise<number> {
    return this.inner.releaseConsumer(inbox, consumer);
  }
  stats(inbox: string): Promise<InboxStats> {
    return this.inner.stats(inbox);
  }
  deadLetters(inbox: string, options?: { limit?: number }): Promise<DeadLetter[]> {
    return this.inner.deadLetters(inbox, options);
  }
  redrive(inbox: string, options?: RedriveOptions): Promise<number> {
    return this.inner.redrive(inbox, options);
  }
  discardDeadLetters(inbox: string, ids: readonly string[]): Promise<number> {
    return this.inner.discardDeadLetters(inbox, ids);
  }
  deleteInbox(inbox: string): Promise<void> {
    return this.inner.deleteInbox(inbox);
  }
  createGroup(group: string): Promise<void> {
    return this.inner.createGroup(group);
  }
  deleteGroup(group: string): Promise<void> {
    return this.inner.deleteGroup(group);
  }
  join(group: string, member: string): Promise<void> {
    return this.inner.join(group, member);
  }
  leave(group: string, member: string): Promise<void> {
    return this.inner.leave(group, member);
  }
  members(group: string): Promise<string[]> {
    return this.inner.members(group);
  }
  groups(): Promise<string[]> {
    return this.inner.groups();
  }
  /** The inner bus belongs to whoever made it: closing the wrapper leaves it open. */
  close(): Promise<void> {
    return Promise.resolve();
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
