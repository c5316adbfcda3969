import type { MessageBus } from '@agentrix/core';
import { readAckLoop } from './agent-loop.js';
import { monotonicMs } from './monotonic.js';
import { startSenderProcess } from './sender-process.js';
import { paceSends } from './wake-pacer.js';

export interface WakeLatencyOptions {
  /** Agents blocked on their inboxes; messages go to them round-robin. */
  agents: number;
  /** Offered load, messages per second (paced every millisecond or so). */
  rate: number;
  warmupMs: number;
  durationMs: number;
  prefix: string;
  /**
   * Send from a process of its own on this Redis and namespace (as a host's ingress or another
   * machine does) instead of from this one, whose sends and their garbage then share the readers'
   * thread and GC.
   */
  senderProcess?: { url: string; namespace: string };
}

/**
 * Wake latency at a fixed offered load: from just before `send` to the moment the agent's
 * blocked `read` hands it the message (before its ack), on the system-wide monotonic clock.
 * Microseconds, warmup excluded.
 */
export async function wakeLatency(bus: MessageBus, options: WakeLatencyOptions): Promise<Float64Array> {
  const agents = Array.from({ length: options.agents }, (_, index) => `${options.prefix}-agent-${index}`);
  // One signal per agent, as the runtime has: a signal shared by every blocked read would make
  // each read pay for the listeners of all the others (EventTarget walks its listener list).
  const controllers = agents.map(() => new AbortController());
  // Preallocated: an array grown by push is copied as it grows, which adds GC of the bench's own.
  const samples = new Float64Array(Math.ceil(((options.warmupMs + options.durationMs) * options.rate) / 1000) + 1000);
  let count = 0;
  let received = 0;
  let warmEnd = Number.POSITIVE_INFINITY;
  const onRead = (deliveries: Awaited<ReturnType<MessageBus['read']>>) => {
    const now = monotonicMs();
    for (const delivery of deliveries) {
      received++;
      const sentAt = Number(delivery.envelope.content);
      if (sentAt >= warmEnd && count < samples.length) samples[count++] = (now - sentAt) * 1000;
    }
  };
  const loops = agents.map((agent, index) =>
    readAckLoop(bus, agent, { max: 1, signal: controllers[index]!.signal, onRead }),
  );
  const ms = options.warmupMs + options.durationMs;
  const sender =
    options.senderProcess === undefined
      ? undefined
      : await startSenderProcess({ ...options.senderProcess, agents, rate: options.rate, ms });
  // Let every agent block first.
  await new Promise((resolve) => setTimeout(resolve, 200));
  let sent: number;
  if (sender === undefined) {
    warmEnd = monotonicMs() + options.warmupMs;
    sent = await paceSends(bus, agents, options.rate, ms);
  } else {
    const report = await sender.run((began) => {
      warmEnd = began + options.warmupMs;
    });
    sent = report.sent;
  }
  // Every message comes (a bus that lost one would fail its tests): waits 10 s at most all the same.
  const waitUntil = monotonicMs() + 10_000;
  while (received < sent && monotonicMs() < waitUntil) await new Promise((resolve) => setTimeout(resolve, 1));
  for (const controller of controllers) controller.abort();
  await Promise.all(loops);
  await Promise.all(agents.map((agent) => bus.deleteInbox(agent)));
  return samples.subarray(0, count);
}
