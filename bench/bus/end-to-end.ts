import { setMaxListeners } from 'node:events';
import type { MessageBus } from '@agentrix/core';

export interface EndToEndOptions {
  /** Agents, each one runtime-style loop: read, handle, ack. */
  agents: number;
  /** Sender chains, each sending one message after the other. */
  senders: number;
  /** `max` of each read: 1 is what the runtime does. */
  readMax: number;
  warmupMs: number;
  durationMs: number;
  /** Inbox name prefix (fresh per run). */
  prefix: string;
}

/**
 * Messages per second that go all the way: `send` -> delivered into an agent's "turn" (a
 * no-op) -> `ack`, with `senders` sender chains and `agents` agent loops in this process.
 * Counts acks between the end of the warmup and the end of the window.
 */
export async function endToEndThroughput(bus: MessageBus, options: EndToEndOptions): Promise<number> {
  const agents = Array.from({ length: options.agents }, (_, index) => `${options.prefix}-agent-${index}`);
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  let acked = 0;
  const agentLoop = async (agent: string) => {
    while (!controller.signal.aborted) {
      let deliveries: Awaited<ReturnType<MessageBus['read']>>;
      try {
        deliveries = await bus.read(agent, { consumer: 'bench', max: options.readMax, signal: controller.signal });
      } catch {
        return; // aborted
      }
      if (deliveries.length === 0) continue;
      await bus.ack(
        agent,
        deliveries.map((delivery) => delivery.deliveryId),
      );
      acked += deliveries.length;
    }
  };
  const loops = agents.map(agentLoop);

  const started = performance.now();
  const warmEnd = started + options.warmupMs;
  const end = warmEnd + options.durationMs;
  let next = 0;
  let ackedAtWarmEnd = -1;
  let warmEndAt = 0;
  const sender = async () => {
    for (;;) {
      const now = performance.now();
      if (now >= end) return;
      // Checked here, not by a timer: an in-memory bus chains promises and never yields to timers.
      if (ackedAtWarmEnd < 0 && now >= warmEnd) {
        ackedAtWarmEnd = acked;
        warmEndAt = now;
      }
      const agent = agents[next++ % agents.length]!;
      await bus.send({ from: 'bench', to: agent, content: 'ping' });
    }
  };
  await Promise.all(Array.from({ length: options.senders }, sender));
  const rate = ((acked - ackedAtWarmEnd) / (performance.now() - warmEndAt)) * 1000;
  controller.abort();
  await Promise.all(loops);
  await Promise.all(agents.map((agent) => bus.deleteInbox(agent)));
  return rate;
}
