import type { MessageBus } from '@agentrix/core';
import { readAckLoop } from './agent-loop.js';

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
  const onRead = (deliveries: Awaited<ReturnType<MessageBus['read']>>) => {
    const now = performance.now();
    for (const delivery of deliveries) {
      const sentAt = Number(delivery.envelope.content);
      if (sentAt >= warmEnd) samples.push((now - sentAt) * 1000);
    }
  };
  const agentLoop = (agent: string, index: number) =>
    readAckLoop(bus, agent, { max: 1, signal: controllers[index]!.signal, onRead });
  const loops = agents.map(agentLoop);
  // Let every agent block first.
  await new Promise((resolve) => setTimeout(resolve, 200));

  // Sends are counted, not kept: holding a thousand send promises (and the envelopes they resolve
  // to) would make every young-generation GC copy them, which is the bench's cost, not the bus's.
  let sent = 0;
  let outstanding = 0;
  let failure: unknown;
  const settled = () => {
    outstanding--;
  };
  const failed = (error: unknown) => {
    outstanding--;
    failure ??= error;
  };
  const paceStart = performance.now();
  while (performance.now() < end + (paceStart - started)) {
    const due = Math.floor(((performance.now() - paceStart) * options.rate) / 1000);
    while (sent < due) {
      const agent = agents[sent++ % agents.length]!;
      outstanding++;
      bus.send({ from: 'bench', to: agent, content: String(performance.now()) }).then(settled, failed);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  while (outstanding > 0) await new Promise((resolve) => setTimeout(resolve, 1));
  if (failure !== undefined) throw failure;
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const controller of controllers) controller.abort();
  await Promise.all(loops);
  await Promise.all(agents.map((agent) => bus.deleteInbox(agent)));
  return Float64Array.from(samples);
}
