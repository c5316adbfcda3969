// Diagnostic (not part of run.ts): Redis's CPU instructions per message end to end, counted by
// valgrind's callgrind, so the figure does not depend on what else the machine runs (CPU time
// per message does, by 30% and more on a shared 2-core machine). Needs valgrind.
//
//   node --conditions=agentrix-source --import tsx bench/bus/redis-instructions.ts [messages] [agents]
//
// Starts redis-server under callgrind on a free port (no persistence; REDIS_ARGS adds settings),
// warms up with 3,000 messages, zeroes the counters, delivers [messages] (default 5,000) through
// RedisStreamsBus ([agents], default 100, read max 1, ack) and prints the instructions Redis ran
// per message (CALLGRIND_OUT=<file> keeps the dump for callgrind_annotate). Under valgrind Redis
// is ~50x slower, so its batches are full: the figure is the per-message work of full batches.
import { createRedisBus } from '@agentrix/bus';
import { CallgrindRedis } from './callgrind-redis.js';
import { deliverFixedCount } from './fixed-count.js';

const messages = Number(process.argv[2] ?? 5_000);
const agents = Number(process.argv[3] ?? 100);
// Server settings to compare, e.g. REDIS_ARGS='--stream-node-max-bytes 1024'.
const { redis, client } = await CallgrindRedis.start(
  (process.env.REDIS_ARGS ?? '').split(' ').filter((arg) => arg !== ''),
);
client.disconnect();
try {
  const bus = await createRedisBus({ url: redis.url, namespace: 'instructions' });
  await deliverFixedCount(bus, 3_000, 'warm-up', agents);
  redis.zero();
  await deliverFixedCount(bus, messages, 'measured', agents);
  const perMessage = redis.dump(process.env.CALLGRIND_OUT) / messages;
  await bus.close();
  console.log(
    `Redis instructions per message: ${Math.round(perMessage).toLocaleString('en-US')} (${messages} messages, ${agents} agents)`,
  );
} finally {
  await redis.stop();
}
