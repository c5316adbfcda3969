// Diagnostic (not part of run.ts): what Redis pays for each part of a batch script item, counted
// by valgrind's callgrind (load independent), next to the plain commands. Needs valgrind.
//
//   node --conditions=agentrix-source --import tsx bench/bus/script-costs.ts
//
// Starts redis-server under callgrind, makes 100 streams of 400 entries (a bus envelope each) with
// a group and 200 of them delivered (pending), then runs each variant 20 times over 20 streams
// (one script of 20 items, or 20 pipelined commands) and prints the instructions per item. The
// script variants add one part at a time to the item of an ack (6 arguments, as the read script's
// long form has) and of a send (4 arguments).
import type { Redis } from 'ioredis';
import { CallgrindRedis } from './callgrind-redis.js';

const ITEMS = 20;
const ROUNDS = 20;
const STREAMS = 100;

const { redis, client } = await CallgrindRedis.start();

/** Instructions Redis ran since the last dump. */
const dumpInstructions = () => redis.dump();

const prefix = 'agentrix:costs:inbox:';
const inboxes = Array.from({ length: STREAMS }, (_, index) => `agent-${index}`);
const stream = (inbox: string) => `${prefix}{${inbox}}:stream`;
const envelope = JSON.stringify({
  id: '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed',
  from: 'bench',
  to: 'e-1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed-agent-12',
  type: 'message',
  content: 'ping',
  createdAt: 1_733_550_000_000,
});
const pending = new Map<string, string[]>();
try {
  for (const inbox of inboxes) {
    await client.xgroup('CREATE', stream(inbox), 'g', '0', 'MKSTREAM');
    const pipeline = client.pipeline();
    for (let index = 0; index < 400; index++) pipeline.xadd(stream(inbox), '*', 'envelope', envelope);
    await pipeline.exec();
    const read = (await client.xreadgroup('GROUP', 'g', 'c', 'COUNT', 200, 'STREAMS', stream(inbox), '>')) as Array<
      [string, Array<[string, string[]]>]
    >;
    pending.set(
      inbox,
      read[0]![1].map((entry) => entry[0]),
    );
  }

  /** Instructions per item of `run`, called ROUNDS times with ITEMS inboxes each. */
  const variant = async (name: string, run: (items: string[], round: number) => Promise<unknown>) => {
    dumpInstructions();
    for (let round = 0; round < ROUNDS; round++) {
      const start = (round * ITEMS) % STREAMS;
      await run(inboxes.slice(start, start + ITEMS), round);
    }
    const perItem = Math.round(dumpInstructions() / (ROUNDS * ITEMS));
    console.log(`${name.padEnd(52)} ${perItem.toLocaleString('en-US').padStart(8)} instructions/item`);
  };
  const script =
    (source: string, itemArgs: (inbox: string, round: number) => string[]) => (items: string[], round: number) => {
      const args = [prefix, 'g', '30000', '10', '0', '1000', 'token'];
      for (const inbox of items) args.push(...itemArgs(inbox, round));
      return client.eval(source, 0, ...args);
    };
  const HEAD = `local inboxPrefix, group = ARGV[1], ARGV[2]
local function inbox_key(inbox, name) return inboxPrefix .. '{' .. inbox .. '}:' .. name end
`;
  const loop = (body: string, reply: string) =>
    `${HEAD}local function one(a) ${body} return ${reply} end
local out, a = {}, 8
while a <= #ARGV do local ok, res = pcall(one, a) out[#out + 1] = res a = a + 6 end
return out`;
  const keys = `local inbox = ARGV[a] local s, e, r = inbox_key(inbox, 'stream'), inbox_key(inbox, 'errors'), inbox_key(inbox, 'reclaim')`;
  const ackArgs = (inbox: string, round: number) => [inbox, 'c', '1', '32', '1', pending.get(inbox)![round]!];
  await variant(
    'ack item: a loop over its 6 arguments',
    script(`${HEAD}local a = 8 while a <= #ARGV do a = a + 6 end return 1`, ackArgs),
  );
  await variant('+ a pcall per item', script(loop('', '1'), ackArgs));
  await variant('+ three key names concatenated', script(loop(keys, '1'), ackArgs));
  await variant('+ EXISTS of two of them', script(loop(`${keys} redis.call('EXISTS', e, r)`, '1'), ackArgs));
  const ack = `${keys} redis.call('EXISTS', e, r) pcall(redis.call, 'XACK', s, group, ARGV[a + 5])`;
  await variant('+ pcall(redis.call, XACK, ...)', script(loop(ack, '1'), ackArgs));
  await variant('+ a reply table {1, -1, 0, 0}', script(loop(ack, '{1, -1, 0, 0}'), ackArgs));
  const pipelined = (add: (pipeline: ReturnType<Redis['pipeline']>, inbox: string, round: number) => void) => {
    return (items: string[], round: number) => {
      const pipeline = client.pipeline();
      for (const inbox of items) add(pipeline, inbox, round);
      return pipeline.exec();
    };
  };
  await variant(
    'plain XACK (pipelined)',
    pipelined((pipeline, inbox, round) => pipeline.xack(stream(inbox), 'g', pending.get(inbox)![round + 40]!)),
  );
  await variant(
    'plain EXISTS of two keys',
    pipelined((pipeline, inbox) => pipeline.exists(`${prefix}{${inbox}}:errors`, `${prefix}{${inbox}}:reclaim`)),
  );
  await variant(
    'plain PING',
    pipelined((pipeline) => pipeline.ping()),
  );
  const sendArgs = (inbox: string) => [inbox, envelope, '', ''];
  await variant(
    'send item: a loop over its 4 arguments',
    script(`${HEAD}local out = {} for a = 8, #ARGV, 4 do out[#out + 1] = 1 end return out`, sendArgs),
  );
  await variant(
    'send item: XADD + GETDEL in the script',
    script(
      `${HEAD}local out = {}
for a = 8, #ARGV, 4 do
  redis.call('XADD', inbox_key(ARGV[a], 'stream'), '*', 'envelope', ARGV[a + 1])
  redis.call('GETDEL', inbox_key(ARGV[a], 'armed'))
  out[#out + 1] = 1
end
return out`,
      sendArgs,
    ),
  );
  await variant(
    'plain XADD (pipelined)',
    pipelined((pipeline, inbox) => pipeline.xadd(stream(inbox), '*', 'envelope', envelope)),
  );
  for (const count of [1, 2, 4]) {
    await variant(`plain XREADGROUP of ${ITEMS} streams, COUNT ${count} (per stream)`, (items) =>
      client.xreadgroup('GROUP', 'g', 'c', 'COUNT', count, 'STREAMS', ...items.map(stream), ...items.map(() => '>')),
    );
  }
  await variant(
    'XRANGE of one id (the node walk)',
    pipelined((pipeline, inbox, round) => {
      const id = pending.get(inbox)![150 + round]!;
      pipeline.xrange(stream(inbox), id, id);
    }),
  );
} finally {
  client.disconnect();
  await redis.stop();
}
