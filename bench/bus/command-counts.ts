// Diagnostic (not part of run.ts): the Redis commands per message end to end, from `INFO
// commandstats` (commands run inside the Lua scripts included), for A/B tests of the hand-off path.
// A count does not move with the machine's load; which path a message takes (hand-off, prefetch by
// the ack, batch) does a little, so compare runs of the same size.
//
//   node --conditions=agentrix-source --import tsx bench/bus/command-counts.ts [agents] [messages]
//
// Starts its own redis-server (no persistence) unless REDIS_URL is set; default 1,000 agents,
// 20,000 messages, after a warm-up of 5,000.
import { randomUUID } from 'node:crypto';
import { createRedisBus } from '@agentrix/bus';
import { Redis } from 'ioredis';
import { deliverFixedCount } from './fixed-count.js';
import { startBenchRedis } from './redis-server.js';

const agents = Number(process.argv[2] ?? 1_000);
const messages = Number(process.argv[3] ?? 20_000);
const redis = await startBenchRedis();
const admin = new Redis(redis.url);
const bus = await createRedisBus({ url: redis.url, namespace: `counts-${randomUUID()}` });
try {
  await deliverFixedCount(bus, 5_000, 'warm-up', agents);
  await admin.config('RESETSTAT');
  await deliverFixedCount(bus, messages, 'measured', agents);
  const stats = await admin.info('commandstats');
  const rows: Array<[string, number, number]> = [];
  for (const line of stats.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (match === null || match[1] === 'config' || match[1] === 'info') continue;
    rows.push([match[1]!, Number(match[2]) / messages, Number(match[3]) / messages]);
  }
  rows.sort((a, b) => b[1] - a[1]);
  let calls = 0;
  for (const [name, perMessage, micros] of rows) {
    calls += perMessage;
    console.log(
      `${name.padEnd(12)} ${perMessage.toFixed(2).padStart(6)} calls/msg  ${micros.toFixed(2).padStart(6)} µs/msg`,
    );
  }
  console.log(`total        ${calls.toFixed(2).padStart(6)} calls/msg (${agents} agents, ${messages} messages)`);
} finally {
  await bus.close();
  await admin.quit();
  await redis.stop();
}
