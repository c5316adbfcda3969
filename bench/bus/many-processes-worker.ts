// One worker process of bench/bus/many-processes.ts: hosts every agent (as each process of a
// scaled-out deployment does, with its own consumer name), and per message saves the agent's
// context on Postgres (when DATABASE_URL is set) before the ack, as a turn commit does.
import { createRedisBus } from '@agentrix/bus';
import type { AgentContext } from '@agentrix/core';
import { openDatabase, SqlContextStore } from '@agentrix/store';

const agents = Array.from({ length: Number(process.env.AGENTS) }, (_, index) => `agent-${index}`);
const bus = await createRedisBus({ url: process.env.REDIS_URL!, namespace: process.env.NAMESPACE! });
const database = process.env.DATABASE_URL
  ? await openDatabase(process.env.DATABASE_URL, { schema: process.env.SCHEMA!, maxConnections: 4 })
  : undefined;
const contexts = database && new SqlContextStore({ database });
const controller = new AbortController();
const latencies: number[] = [];
let handled = 0;
/** Every ack, counted or not: the host holds its senders back by it. */
let ackedTotal = 0;
let cpuAtStart = process.cpuUsage();
let counting = false;

async function agentLoop(agent: string): Promise<void> {
  let turns = 0;
  while (!controller.signal.aborted) {
    let deliveries: Awaited<ReturnType<typeof bus.read>>;
    try {
      deliveries = await bus.read(agent, { consumer: `worker-${process.pid}`, signal: controller.signal });
    } catch {
      return;
    }
    for (const delivery of deliveries) {
      turns++;
      const context: AgentContext = {
        version: 2,
        agentId: agent,
        threadId: 'main',
        messages: [{ role: 'user', content: delivery.envelope.content }],
        state: {},
        turns,
        updatedAt: Date.now(),
      };
      await contexts?.save(context);
    }
    if (deliveries.length === 0) continue;
    await bus.ack(
      agent,
      deliveries.map((delivery) => delivery.deliveryId),
    );
    ackedTotal += deliveries.length;
    if (!counting) continue;
    const now = Date.now();
    for (const delivery of deliveries) latencies.push(now - (delivery.envelope.data as { sentAt: number }).sentAt);
    handled += deliveries.length;
  }
}

const loops = agents.map(agentLoop);
const progress = setInterval(() => process.send!({ progress: ackedTotal }), 50);
process.on('message', async (message: { command: string }) => {
  if (message.command === 'count') {
    counting = true;
    cpuAtStart = process.cpuUsage();
    return;
  }
  const cpu = process.cpuUsage(cpuAtStart);
  counting = false;
  clearInterval(progress);
  controller.abort();
  await Promise.all(loops);
  await bus.close();
  await database?.close();
  process.send!({ done: { handled, latencies, cpuMicros: cpu.user + cpu.system } }, () => process.exit(0));
});
process.send!({ ready: true });
