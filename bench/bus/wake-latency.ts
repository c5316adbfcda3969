import type { MessageBus } from '@agentrix/core';

export interface WakeLatencyOptions {
  /** Agents blocked on their inboxes; messages go to them round-robin. */
  agents: number;
  /** Offered load, messages per second (paced every millisecond or so). */
  rate: number;
  warmupMs: number;
  durationMs: number;
  prefix: string;
}

/**
 * Wake latency at a fixed offered load: from just before `send` to the moment the agent's
 * blocked `read` hands it the message (before its ack). Microseconds, warmup excluded.
 */
export async function wakeLatency(bus: MessageBus, options: WakeLatencyOptions): Promise<Float64Array> {
  const agents = Array.from({ length: options.agents }, (_, index) => `${options.prefix}-agent-${index}`);
  // One signal per agent, as the runtime has: a signal shared by every blocked read would make
  // each read pay for the listeners of all the others (EventTarget walks its listener list).
  const controllers = agents.map(() => new AbortController());
  const samples: number[] = [];
  const started = performance.now();
  const warmEnd = started + options.warmupMs;
  const end = warmEnd + options.durationMs;
  const agentLoop = async (agent: string, index: number) => {
    const signal = controllers[index]!.signal;
    while (!signal.aborted) {
      let deliveries: Awaited<ReturnType<MessageBus['read']>>;
      try {
        deliveries = await bus.read(agent, { consumer: 'bench', max: 1, signal });
      } catch {
        return;
      }
      const now = performance.now();
      for (const delivery of deliveries) {
        const sentAt = Number(delivery.envelope.content);
        if (sentAt >= warmEnd) samples.push((now - sentAt) * 1000);
      }
      await bus.ack(
        agent,
        deliveries.map((delivery) => delivery.deliveryId),
      );
    }
  };
  const loops = agents.map(agentLoop);
  // Let every agent block first.
  await new Promise((resolve) => setTimeout(resolve, 200));

  let sent = 0;
  const pending: Promise<unknown>[] = [];
  const paceStart = performance.now();
  while (performance.now() < end + (paceStart - started)) {
    const due = Math.floor(((performance.now() - paceStart) * options.rate) / 1000);
    while (sent < due) {
      const agent = agents[sent++ % agents.length]!;
      pending.push(bus.send({ from: 'bench', to: agent, content: String(performance.now()) }));
    }
    if (pending.length > 1000) await Promise.all(pending.splice(0));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const controller of controllers) controller.abort();
  await Promise.all(loops);
  await Promise.all(agents.map((agent) => bus.deleteInbox(agent)));
  return Float64Array.from(samples);
}
