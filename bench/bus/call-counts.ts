// Diagnostic (not part of run.ts): the Redis calls the bus makes per message end to end (100 agents
// by default, the work of `fixed-count.ts`), counted at the client: calls per message of each
// script (by its sha: the send script carries 4 arguments a message, the ack script 6 an ack) and
// plain command, the arguments each carries, redis-server's socket reads and writes per message
// (`INFO stats`) and this process's socket writes per message (`/proc/self/io`). Counts do not
// move with the machine's load; how many sends share a tick does a little, so compare runs of the
// same size.
//
//   node --conditions=agentrix-source --import tsx bench/bus/call-counts.ts [agents] [messages]
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRedisBus } from '@agentrix/bus';
import { Redis } from 'ioredis';
import { deliverFixedCount } from './fixed-count.js';
import { startBenchRedis } from './redis-server.js';
import { RedisServerCpu } from './server-cpu.js';

const agents = Number(process.argv[2] ?? 100);
const messages = Number(process.argv[3] ?? 40_000);
const redis = await startBenchRedis();
const client = new Redis(redis.url);
const serverCpu = new RedisServerCpu(redis.url);
/** Per command (an EVALSHA by the first 8 characters of its script's sha): calls, arguments. */
const counts = new Map<string, { calls: number; args: number }>();
let counting = false;
const sendCommand = client.sendCommand.bind(client);
client.sendCommand = ((command: { name: string; args: unknown[] }, ...rest: unknown[]) => {
  if (counting) {
    const name = command.name === 'evalsha' ? `evalsha ${String(command.args[0]).slice(0, 8)}` : command.name;
    const count = counts.get(name) ?? { calls: 0, args: 0 };
    count.calls++;
    count.args += command.args.length;
    counts.set(name, count);
  }
  return (sendCommand as (...args: unknown[]) => unknown)(command, ...rest);
}) as typeof client.sendCommand;
const bus = await createRedisBus({ client, namespace: `calls-${randomUUID()}` });
try {
  await deliverFixedCount(bus, 5_000, 'warm-up', agents);
  const socketsBefore = await serverCpu.socketCalls();
  const cpuBefore = await serverCpu.micros();
  const nodeBefore = process.cpuUsage();
  const writesBefore = writeCalls();
  counting = true;
  await deliverFixedCount(bus, messages, 'measured', agents);
  counting = false;
  const node = process.cpuUsage(nodeBefore);
  const nodeWrites = (writeCalls() - writesBefore) / messages;
  const cpu = (await serverCpu.micros()) - cpuBefore;
  const sockets = await serverCpu.socketCalls();
  const rows = [...counts].sort((a, b) => b[1].calls - a[1].calls);
  for (const [name, { calls, args }] of rows) {
    console.log(
      `${name.padEnd(18)} ${(calls / messages).toFixed(3).padStart(7)} calls/msg  ${(args / calls).toFixed(1).padStart(7)} args/call`,
    );
  }
  console.log(
    `redis socket reads ${((sockets.reads - socketsBefore.reads) / messages).toFixed(3)} / writes ${((sockets.writes - socketsBefore.writes) / messages).toFixed(3)} per msg; node writes ${nodeWrites.toFixed(3)} per msg; CPU µs/msg node ${((node.user + node.system) / messages).toFixed(1)} (system ${(node.system / messages).toFixed(1)}), redis ${(cpu / messages).toFixed(1)} (${agents} agents, ${messages} messages)`,
  );
} finally {
  await bus.close();
  await serverCpu.close();
  await client.quit();
  await redis.stop();
}

/** This process's write system calls so far (`syscw`, Linux). */
function writeCalls(): number {
  return Number(/syscw: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? Number.NaN);
}
