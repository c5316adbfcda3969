import type { MessageBus } from '@agentrix/core';
import { readAckLoop } from './agent-loop.js';

export interface EndToEndOptions {
  /** Agents, each one runtime-style loop: read, handle, ack. */
  agents: number;
  /** Sender chains, each sending one message after the other. */
  senders: number;
  /** `max` of each read: 1 is what the runtime does. */
  readMax: number;
  /**
   * Most messages sent and not yet acked: senders wait while the backlog is this long, so the
   * run measures the rate the bus sustains rather than how fast an unbounded backlog grows.
   * Default 20 per agent (every inbox keeps work queued).
   */
  maxBacklog?: number;
  warmupMs: number;
  durationMs: number;
  /** Inbox name prefix (fresh per run). */
  prefix: string;
  /** The Redis server's CPU time so far (µs), for its CPU per message; omitted for the in-memory bus. */
  serverCpuMicros?: () => Promise<number>;
}

export interface EndToEndResult {
  /** Acked messages per second in the window. */
  rate: number;
  /** This process's CPU time (user + system) per acked message in the window, µs. */
  nodeMicros: number;
  /** The Redis server's CPU time per acked message in the window, µs (NaN without `serverCpuMicros`). */
  serverMicros: number;
}

/**
 * Messages per second that go all the way: `send` -> delivered into an agent's "turn" (a
 * no-op) -> `ack`, with `senders` sender chains and `agents` agent loops in this process.
 * Counts acks between the end of the warmup and the end of the window.
 */
export async function endToEndThroughput(bus: MessageBus, options: EndToEndOptions): Promise<EndToEndResult> {
  const agents = Array.from({ length: options.agents }, (_, index) => `${options.prefix}-agent-${index}`);
  // One signal per agent, as the runtime has: a signal shared by every blocked read would make
  // each read pay for the listeners of all the others (EventTarget walks its listener list).
  const controllers = agents.map(() => new AbortController());
  let acked = 0;
  let sent = 0;
  const maxBacklog = options.maxBacklog ?? options.agents * 20;
  /** Senders waiting for the backlog to shrink. */
  let blocked: Array<() => void> = [];
  const onAcked = (count: number) => {
    acked += count;
    if (blocked.length > 0 && sent - acked < maxBacklog) {
      const wake = blocked;
      blocked = [];
      for (const resume of wake) resume();
    }
  };
  const loops = agents.map((agent, index) =>
    readAckLoop(bus, agent, { max: options.readMax, signal: controllers[index]!.signal, onAcked }),
  );

  const started = performance.now();
  const warmEnd = started + options.warmupMs;
  const end = warmEnd + options.durationMs;
  let next = 0;
  let ackedAtWarmEnd = -1;
  let warmEndAt = 0;
  let nodeCpuAtWarmEnd: NodeJS.CpuUsage | undefined;
  let serverCpuAtWarmEnd: Promise<number> | undefined;
  const sender = async () => {
    for (let sends = 0; ; sends++) {
      // Checked here, not by a timer: an in-memory bus chains promises and never yields to timers.
      // Every 8th send only: a host reads no clock per message (it was 1% of Node's CPU here); the
      // rate's own times are read when the window starts and ends, so it stays exact.
      if ((sends & 7) === 0) {
        const now = performance.now();
        if (now >= end) return;
        if (ackedAtWarmEnd < 0 && now >= warmEnd) {
          ackedAtWarmEnd = acked;
          warmEndAt = now;
          nodeCpuAtWarmEnd = process.cpuUsage();
          serverCpuAtWarmEnd = options.serverCpuMicros?.();
        }
      }
      if (sent - acked >= maxBacklog) {
        await new Promise<void>((resolve) => blocked.push(resolve));
        continue;
      }
      const agent = agents[next++ % agents.length]!;
      sent++;
      await bus.send({ from: 'bench', to: agent, content: 'ping' });
    }
  };
  await Promise.all(Array.from({ length: options.senders }, sender));
  const counted = acked - ackedAtWarmEnd;
  const rate = (counted / (performance.now() - warmEndAt)) * 1000;
  const nodeCpu = process.cpuUsage(nodeCpuAtWarmEnd);
  const serverCpu = options.serverCpuMicros
    ? (await options.serverCpuMicros()) - (await serverCpuAtWarmEnd!)
    : Number.NaN;
  for (const controller of controllers) controller.abort();
  for (const resume of blocked) resume();
  await Promise.all(loops);
  await Promise.all(agents.map((agent) => bus.deleteInbox(agent)));
  return { rate, nodeMicros: (nodeCpu.user + nodeCpu.system) / counted, serverMicros: serverCpu / counted };
}
