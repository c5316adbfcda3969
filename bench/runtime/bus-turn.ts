import { InMemoryBus } from '@agentrix/bus';
import type { MessageBus } from '@agentrix/core';
import { type AgentManager, createAgentrix } from '@agentrix/runtime';
import { measureThroughput, sampleLatency } from '../lib/measure.js';
import { summarize } from '../lib/stats.js';
import { formatNumber, formatRatio, status, type Table } from '../lib/table.js';
import { addTool } from './add-tool.js';
import { InstantModel } from './instant-model.js';

const TARGET_P99_US = 1_000;
const HOST = 'host-bench';
const CONSUMER = 'bench';

export interface BusTurnOptions {
  warmup: number;
  samples: number;
  /** Agents (each with its own host inbox) for the throughput rows. */
  agents: number;
  /** Messages kept in flight per agent in the second throughput row. */
  inFlightPerAgent: number;
  durationMs: number;
}

/** One message from the host to `agent` and the host's wait for the reply (one at a time). */
async function roundTrip(bus: MessageBus, agent: string, host: string): Promise<void> {
  await bus.send({ from: host, to: agent, replyTo: host, content: 'What is 2 + 3?' });
  for (;;) {
    const deliveries = await bus.read(host, { consumer: CONSUMER });
    if (deliveries.length === 0) continue;
    await bus.ack(
      host,
      deliveries.map((delivery) => delivery.deliveryId),
    );
    return;
  }
}

/** The baseline: a blocked read on an inbox, a send that wakes it, an ack. No agent. */
function ping(bus: InMemoryBus, inbox: string): () => Promise<void> {
  return async () => {
    const reading = bus.read(inbox, { consumer: CONSUMER });
    await bus.send({ from: HOST, to: inbox, content: 'ping' });
    const deliveries = await reading;
    await bus.ack(
      inbox,
      deliveries.map((delivery) => delivery.deliveryId),
    );
  };
}

/**
 * Keeps `perAgent` messages in flight to each agent: whenever replies arrive, sends as many new
 * messages. Returns replies per second.
 */
async function pipelined(
  manager: AgentManager,
  agents: string[],
  perAgent: number,
  durationMs: number,
): Promise<number> {
  const { bus } = manager;
  const started = performance.now();
  const deadline = started + durationMs;
  let replies = 0;
  const chain = async (agent: string, index: number) => {
    const host = `${HOST}-${index}`;
    const send = () => bus.send({ from: host, to: agent, replyTo: host, content: 'What is 2 + 3?' });
    let outstanding = perAgent;
    for (let i = 0; i < perAgent; i++) await send();
    while (outstanding > 0) {
      const deliveries = await bus.read(host, { consumer: CONSUMER });
      await bus.ack(
        host,
        deliveries.map((delivery) => delivery.deliveryId),
      );
      outstanding -= deliveries.length;
      replies += deliveries.length;
      if (performance.now() < deadline) {
        for (let i = 0; i < deliveries.length; i++) await send();
        outstanding += deliveries.length;
      }
    }
  };
  await Promise.all(agents.map(chain));
  return replies / ((performance.now() - started) / 1000);
}

/** Section 2: the same 2-step turn through the bus and an AgentManager, against a raw bus ping. */
export async function benchBusTurn(options: BusTurnOptions): Promise<Table> {
  const model = new InstantModel();

  const pingBus = new InMemoryBus();
  const pingOnce = ping(pingBus, 'ping-inbox');
  const pingSummary = summarize(await sampleLatency(pingOnce, options));
  const pingPerSecond = await measureThroughput(
    (() => {
      let next = 0;
      const pings = Array.from({ length: options.agents }, (_, index) => ping(pingBus, `ping-inbox-${index}`));
      return () => pings[next++ % pings.length]!();
    })(),
    { concurrency: options.agents, durationMs: options.durationMs },
  );
  await pingBus.close();

  const manager = await createAgentrix({ model, tools: [addTool] });
  const agentIds = Array.from({ length: options.agents }, (_, index) => `bench-agent-${index}`);
  for (const id of agentIds) await manager.create({ id, tools: ['add'] });
  const first = agentIds[0]!;
  const one = () => roundTrip(manager.bus, first, HOST);
  const turnSummary = summarize(await sampleLatency(one, options));
  const turnPerSecond = await measureThroughput(
    (() => {
      let next = 0;
      // One chain per agent, each with its own host inbox: at most one message per agent in flight.
      const trips = agentIds.map((id, index) => () => roundTrip(manager.bus, id, `${HOST}-${index}`));
      return () => trips[next++ % trips.length]!();
    })(),
    { concurrency: options.agents, durationMs: options.durationMs },
  );
  const pipelinedPerSecond = await pipelined(manager, agentIds, options.inFlightPerAgent, options.durationMs);
  const turns = manager.list().reduce((sum, agent) => sum + agent.turns, 0);
  const failed = manager.list().filter((agent) => agent.state !== 'idle' && agent.state !== 'running');
  await manager.close();
  if (failed.length > 0)
    throw new Error(`agents in bad states: ${failed.map((agent) => `${agent.id}=${agent.state}`).join(', ')}`);

  const n = options.agents;
  const target = `p99 <= ${formatNumber(TARGET_P99_US)} µs`;
  return {
    title: `2. The same turn through the bus (host send -> agent wakes -> 2-step turn -> reply read + acked; ${formatNumber(options.samples)} samples after ${formatNumber(options.warmup)} warm-up)`,
    headers: ['row', 'median µs', 'ratio', 'p99 µs', 'ratio', 'msgs/s', 'ratio', 'target', 'status'],
    rows: [
      [
        'raw InMemoryBus ping (baseline)',
        formatNumber(pingSummary.median, 2),
        '1.00x',
        formatNumber(pingSummary.p99, 2),
        '1.00x',
        `${formatNumber(pingPerSecond)} @${n}`,
        '1.00x',
        '-',
        status(undefined),
      ],
      [
        'AgentManager turn via bus',
        formatNumber(turnSummary.median, 2),
        formatRatio(turnSummary.median, pingSummary.median),
        formatNumber(turnSummary.p99, 2),
        formatRatio(turnSummary.p99, pingSummary.p99),
        `${formatNumber(turnPerSecond)} @${n}`,
        formatRatio(turnPerSecond, pingPerSecond),
        target,
        status(turnSummary.p99 <= TARGET_P99_US),
      ],
      [
        `  same, ${options.inFlightPerAgent} in flight per agent`,
        '-',
        '-',
        '-',
        '-',
        `${formatNumber(pipelinedPerSecond)} @${formatNumber(n * options.inFlightPerAgent)}`,
        formatRatio(pipelinedPerSecond, pingPerSecond),
        '-',
        status(undefined),
      ],
    ],
    notes: [
      `Latency: one message at a time to one agent (spec defaults: stream on, history kept). msgs/s: ${n} agents, each with its own`,
      `host inbox; "@${n}" = one message per agent in flight, the last row keeps ${options.inFlightPerAgent} per agent in flight. ${formatNumber(turns)} turns ran in all.`,
    ],
  };
}
