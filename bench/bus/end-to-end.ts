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
  const backlog = new SendBacklog(options.maxBacklog ?? options.agents * 20);
  const onAcked = (count: number) => backlog.ack(count);
  const loops = agents.map((agent, index) =>
    readAckLoop(bus, agent, { max: options.readMax, signal: controllers[index]!.signal, onAcked }),
  );
  const result = await backlog.send(options, (index) =>
    bus.send({ from: 'bench', to: agents[index % agents.length]!, content: 'ping' }),
  );
  for (const controller of controllers) controller.abort();
  backlog.release();
  await Promise.all(loops);
  await Promise.all(agents.map((agent) => bus.deleteInbox(agent)));
  return result;
}

/**
 * The senders of a throughput window and the backlog they keep: `senders` chains send one message
 * after the other (`send(n)`, n counting up) and pause while `maxBacklog` messages are sent and not
 * yet acked (`ack(count)`); the rate and CPU per message are of the acks between the end of the
 * warmup and the end of the window. Shared by the bus's rows and the ceiling (ceiling.ts).
 */
export class SendBacklog {
  acked = 0;
  sent = 0;
  readonly #maxBacklog: number;
  /** Senders waiting for the backlog to shrink. */
  #blocked: Array<() => void> = [];

  constructor(maxBacklog: number) {
    this.#maxBacklog = maxBacklog;
  }

  ack(count: number): void {
    this.acked += count;
    if (this.#blocked.length > 0 && this.sent - this.acked < this.#maxBacklog) this.release();
  }

  /** Wakes every waiting sender. */
  release(): void {
    const wake = this.#blocked;
    this.#blocked = [];
    for (const resume of wake) resume();
  }

  async send(
    options: { senders: number; warmupMs: number; durationMs: number; serverCpuMicros?: () => Promise<number> },
    send: (index: number) => Promise<unknown>,
  ): Promise<EndToEndResult> {
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
            ackedAtWarmEnd = this.acked;
            warmEndAt = now;
            nodeCpuAtWarmEnd = process.cpuUsage();
            serverCpuAtWarmEnd = options.serverCpuMicros?.();
          }
        }
        if (this.sent - this.acked >= this.#maxBacklog) {
          await new Promise<void>((resolve) => this.#blocked.push(resolve));
          continue;
        }
        this.sent++;
        await send(next++);
      }
    };
    await Promise.all(Array.from({ length: options.senders }, sender));
    const counted = this.acked - ackedAtWarmEnd;
    const rate = (counted / (performance.now() - warmEndAt)) * 1000;
    const nodeCpu = process.cpuUsage(nodeCpuAtWarmEnd);
    const serverCpu = options.serverCpuMicros
      ? (await options.serverCpuMicros()) - (await serverCpuAtWarmEnd!)
      : Number.NaN;
    return { rate, nodeMicros: (nodeCpu.user + nodeCpu.system) / counted, serverMicros: serverCpu / counted };
  }
}
