import type { MessageBus } from '@agentrix/core';

type Deliveries = Awaited<ReturnType<MessageBus['read']>>;

export interface ReadAckLoopOptions {
  /** `max` of each read: 1 is what the runtime does. */
  max: number;
  /** Ends the loop (a blocked read is aborted). One per agent, as the runtime has. */
  signal: AbortSignal;
  /** Called with what a read returned, before it is acked (the agent's "turn"). */
  onRead?: (deliveries: Deliveries) => void;
  /** Called after each ack with how many deliveries it acked. */
  onAcked?: (count: number) => void;
}

/** One agent as the runtime drives it: a blocking read, the turn (a no-op), the ack, until aborted. */
export async function readAckLoop(bus: MessageBus, inbox: string, options: ReadAckLoopOptions): Promise<void> {
  const { max, signal, onRead, onAcked } = options;
  // One options object for every read, as the runtime's agent loop keeps (an object less a message).
  const reading = { consumer: 'bench', max, signal };
  while (!signal.aborted) {
    let deliveries: Deliveries;
    try {
      deliveries = await bus.read(inbox, reading);
    } catch {
      return; // aborted
    }
    if (deliveries.length === 0) continue;
    onRead?.(deliveries);
    await bus.ack(
      inbox,
      deliveries.map((delivery) => delivery.deliveryId),
    );
    onAcked?.(deliveries.length);
  }
}
