import type { MessageBus } from '@agentrix/core';
import { readAckLoop } from './agent-loop.js';

/**
 * Sends `total` messages round-robin to `agents` agent loops (read max 1, ack) from 100 sender
 * chains, at most 20 per agent unacked, and resolves once all are acked: the same work as the
 * end-to-end bench, counted in messages instead of seconds (for per-message counters).
 */
export async function deliverFixedCount(bus: MessageBus, total: number, prefix: string, agents = 100): Promise<void> {
  const inboxes = Array.from({ length: agents }, (_, index) => `${prefix}-agent-${index}`);
  const controllers = inboxes.map(() => new AbortController());
  let acked = 0;
  let sent = 0;
  let allAcked!: () => void;
  const finished = new Promise<void>((resolve) => {
    allAcked = resolve;
  });
  const loops = inboxes.map((inbox, index) =>
    readAckLoop(bus, inbox, {
      max: 1,
      signal: controllers[index]!.signal,
      onAcked: (count) => {
        acked += count;
        if (acked === total) allAcked();
      },
    }),
  );
  const sender = async () => {
    while (sent < total) {
      if (sent - acked >= agents * 20) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      const inbox = inboxes[sent++ % agents]!;
      await bus.send({ from: 'bench', to: inbox, content: 'ping' });
    }
  };
  await Promise.all(Array.from({ length: 100 }, sender));
  await finished;
  for (const controller of controllers) controller.abort();
  await Promise.all(loops);
  await Promise.all(inboxes.map((inbox) => bus.deleteInbox(inbox)));
}
