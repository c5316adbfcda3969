// Diagnostic (not part of run.ts): Redis's CPU time per message for four ways of sending the same
// batch of 24 messages (100 inboxes, none armed), the question behind "send without a script":
//
//   script      the bus's own sends (RedisStreamsBus batches concurrent sends into its send script:
//               XADD + GETDEL of the arm marker inside Lua)
//   xadd+wake   24 plain XADDs, then one small script that takes the 24 arm markers (GETDEL)
//   xadd+getdel 24 plain XADD + GETDEL pairs (no script: not safe against a crash between the two)
//   multi       MULTI, the 24 XADDs and the wake script, EXEC (atomic again)
//
//   node --conditions=agentrix-source --import tsx bench/bus/send-forms.ts [rounds]
//
// Starts its own redis-server (no persistence) unless REDIS_URL is set; prints each form's Redis
// CPU µs per message per round (INFO cpu), the forms taking turns so that load hits them alike.
import { randomUUID } from 'node:crypto';
import { createRedisBus } from '@agentrix/bus';
import { Redis } from 'ioredis';
import { startBenchRedis } from './redis-server.js';
import { RedisServerCpu } from './server-cpu.js';

const rounds = Number(process.argv[2] ?? 3);
const MESSAGES = 240_000;
const BATCH = 24;
const IN_FLIGHT = 8;
const redis = await startBenchRedis();
const client = new Redis(redis.url, { enableAutoPipelining: false });
const serverCpu = new RedisServerCpu(redis.url);
const prefix = `send-forms-${process.pid}:inbox:`;
const inboxes = Array.from({ length: 100 }, (_, index) => `agent-${index}`);
const streams = inboxes.map((inbox) => `${prefix}{${inbox}}:stream`);
const envelope = JSON.stringify({
  id: '01JEXAMPLE0000000000000000',
  from: 'sender-1',
  to: 'agent-1',
  type: 'message',
  content: 'hello there '.repeat(12),
  threadId: 'main',
  createdAt: Date.now(),
});
const wakeScript = `
for i = 2, #ARGV do
  if redis.call('GETDEL', ARGV[1] .. '{' .. ARGV[i] .. '}:armed') then redis.call('PUBLISH', 'wake:' .. ARGV[i], '1') end
end
return 1`;
const wakeSha = (await client.script('LOAD', wakeScript)) as string;
const namespace = `send-forms-${randomUUID()}`;
const bus = await createRedisBus({ url: redis.url, namespace });
const content = JSON.parse(envelope).content as string;

const forms: Record<string, (batch: string[]) => Promise<unknown>> = {
  script: (batch) => Promise.all(batch.map((inbox) => bus.send({ from: 'sender-1', to: inbox, content }))),
  'xadd+wake': (batch) => {
    const pipeline = client.pipeline();
    for (const inbox of batch) pipeline.xadd(`${prefix}{${inbox}}:stream`, '*', 'envelope', envelope);
    pipeline.evalsha(wakeSha, 0, prefix, ...batch);
    return pipeline.exec();
  },
  'xadd+getdel': (batch) => {
    const pipeline = client.pipeline();
    for (const inbox of batch) {
      pipeline.xadd(`${prefix}{${inbox}}:stream`, '*', 'envelope', envelope);
      pipeline.getdel(`${prefix}{${inbox}}:armed`);
    }
    return pipeline.exec();
  },
  multi: (batch) => {
    const transaction = client.multi();
    for (const inbox of batch) transaction.xadd(`${prefix}{${inbox}}:stream`, '*', 'envelope', envelope);
    transaction.evalsha(wakeSha, 0, prefix, ...batch);
    return transaction.exec();
  },
};

/** Deletes the streams of both key layouts (the forms' own, and the bus's namespace). */
async function clear(): Promise<void> {
  const busKeys = await client.keys(`agentrix:${namespace}:*`);
  await client.del(...streams, ...busKeys);
}

const results = new Map<string, string[]>();
try {
  for (let round = 0; round < rounds; round++) {
    for (const [name, send] of Object.entries(forms)) {
      await clear();
      const before = await serverCpu.micros();
      const inFlight: Array<Promise<unknown>> = [];
      for (let sent = 0; sent < MESSAGES; sent += BATCH) {
        inFlight.push(send(Array.from({ length: BATCH }, (_, index) => inboxes[(sent + index) % inboxes.length]!)));
        if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
      }
      await Promise.all(inFlight);
      const micros = ((await serverCpu.micros()) - before) / MESSAGES;
      results.set(name, [...(results.get(name) ?? []), micros.toFixed(2)]);
    }
  }
  for (const [name, perRound] of results) console.log(`${name.padEnd(12)} Redis µs/msg: ${perRound.join(', ')}`);
} finally {
  await clear();
  await bus.close();
  client.disconnect();
  await serverCpu.close();
  await redis.stop();
}
