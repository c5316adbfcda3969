// The least any Redis Streams bus must do per message, with plain ioredis in one Node process and
// no bus: the ceiling of the end-to-end row (run.ts prints it beside the bus; `ceiling-only.ts`
// repeats it alone).
//
// 100 sender chains and 100 agent loops (read max 1, a no-op turn, ack), as `end-to-end.ts`
// runs them on the bus, 20 messages per agent in flight at most. Per message: the envelope made
// and written as JSON, one plain `XADD` (the sends of one tick together), a share of one
// `XREADGROUP GROUP g c COUNT 1 STREAMS <up to chunk streams> > ...` (the reads of one tick, the
// bus's batching), `JSON.parse` of the entry, one `XACK` (written with the reads, as the bus's
// ack fetches the next message) and every 16 acks of a stream an `XTRIM MINID`. No script, no
// de-duplication, no lease check, no arming or wake-up over Redis (a drained agent is woken in
// process by the next send to it): what it leaves out is what the bus's guarantees cost, so the
// gap between this row and the bus's is the bus's own work.
//
// client: `lean` (each command written as one buffer through ioredis's `Command` and
// `sendCommand`, replies left as buffers, the socket corked per tick: what the bus does for its
// own commands; arguments must be ASCII) or `ioredis` (ioredis's pipelines and string replies, as
// an application would write it).
import { randomUUID } from 'node:crypto';
import { Command, type Redis } from 'ioredis';
import { type EndToEndResult, SendBacklog } from './end-to-end.js';

export interface CeilingOptions {
  /** Agent loops (one stream each); the senders are 100 chains, as in the bus's rows. */
  agents: number;
  /** Most streams per `XREADGROUP` (the bus's batches hold up to 24 inboxes). */
  chunk: number;
  client: 'lean' | 'ioredis';
  warmupMs: number;
  durationMs: number;
  /** The Redis server's CPU time so far (µs). */
  serverCpuMicros: () => Promise<number>;
  /** Print Redis's commands per message of the run (`INFO commandstats`, warmup included). */
  commandStats?: boolean;
}

const SENDERS = 100;
const TRIM_EVERY = 16;

interface Entry {
  id: string;
  envelope: unknown;
}

/** RESP of one command in one buffer (ASCII arguments copied by a loop, as the bus's encoder does). */
function encode(argv: readonly string[]): Buffer {
  let size = 3 + String(argv.length).length;
  for (const arg of argv) size += 5 + String(arg.length).length + arg.length;
  const buffer = Buffer.allocUnsafe(size);
  let at = buffer.write(`*${argv.length}\r\n`, 0, 'latin1');
  for (const arg of argv) {
    at += buffer.write(`$${arg.length}\r\n`, at, 'latin1');
    for (let index = 0; index < arg.length; index++) buffer[at++] = arg.charCodeAt(index);
    buffer[at++] = 13;
    buffer[at++] = 10;
  }
  return buffer;
}

/** One command through ioredis's `sendCommand`, written as one buffer, its reply left as buffers. */
function raw(target: Redis, argv: string[]): Promise<unknown> {
  const command = new Command(argv[0]!, [], { replyEncoding: null });
  command.args = argv.slice(1);
  command.toWritable = () => encode(argv);
  return target.sendCommand(command) as Promise<unknown>;
}

const ignore = () => {};

/** One run on `client` (a Redis without auto-pipelining); the streams are deleted at the end. */
export async function ceilingThroughput(client: Redis, options: CeilingOptions): Promise<EndToEndResult> {
  const { agents: agentCount, chunk } = options;
  const lean = options.client === 'lean';
  const prefix = `ceiling:${randomUUID()}`;
  const streams = Array.from({ length: agentCount }, (_, index) => `${prefix}:{a${index}}:stream`);
  const indexOf = new Map(streams.map((stream, index) => [stream, index]));
  const keyBuffers = streams.map((stream) => Buffer.from(stream));
  const setup = client.pipeline();
  for (const stream of streams) setup.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
  await setup.exec();

  // Sends of one tick: one pipeline of XADDs.
  let sendQueue: Array<[number, string, () => void]> = [];
  const flushSends = () => {
    const batch = sendQueue;
    sendQueue = [];
    let done: Promise<unknown>;
    if (lean) {
      const socket = client.stream;
      socket.cork();
      let last: Promise<unknown> = Promise.resolve();
      for (const [agent, json] of batch) last = raw(client, ['XADD', streams[agent]!, '*', 'envelope', json]);
      socket.uncork();
      done = last;
    } else {
      const pipeline = client.pipeline();
      for (const [agent, json] of batch) pipeline.xadd(streams[agent]!, '*', 'envelope', json);
      done = pipeline.exec();
    }
    void done.then(() => {
      for (const [agent, , resolve] of batch) {
        resolve();
        // An agent that found its stream drained waits for the next send to it.
        const parked = drained[agent];
        if (parked !== undefined) {
          drained[agent] = undefined;
          queueRead(agent, parked);
        }
      }
    });
  };
  const send = (agent: number) =>
    new Promise<void>((resolve) => {
      const envelope = {
        id: randomUUID(),
        from: 'bench',
        to: `agent-${agent}`,
        type: 'message',
        content: 'ping',
        createdAt: Date.now(),
      };
      if (sendQueue.length === 0) setImmediate(flushSends);
      sendQueue.push([agent, JSON.stringify(envelope), resolve]);
    });

  // Acks and reads of one tick: XACKs, XTRIMs, then XREADGROUPs over up to `chunk` streams.
  const drained: Array<((entry: Entry) => void) | undefined> = new Array(agentCount);
  const acksSinceTrim = new Array<number>(agentCount).fill(0);
  let ackQueue: Array<[number, string]> = [];
  let readQueue: Array<[number, (entry: Entry) => void]> = [];
  let flushing = false;
  const schedule = () => {
    if (flushing) return;
    flushing = true;
    setImmediate(flushReads);
  };
  const queueRead = (agent: number, resolve: (entry: Entry) => void) => {
    schedule();
    readQueue.push([agent, resolve]);
  };
  const flushReads = () => {
    flushing = false;
    const acks = ackQueue;
    const reads = readQueue;
    ackQueue = [];
    readQueue = [];
    if (lean) {
      flushReadsLean(acks, reads);
      return;
    }
    const pipeline = client.pipeline();
    for (const [agent, id] of acks) {
      pipeline.xack(streams[agent]!, 'g', id);
      if (++acksSinceTrim[agent]! >= TRIM_EVERY) {
        acksSinceTrim[agent] = 0;
        pipeline.xtrim(streams[agent]!, 'MINID', id);
      }
    }
    const chunks: Array<Array<[number, (entry: Entry) => void]>> = [];
    for (let start = 0; start < reads.length; start += chunk) {
      const part = reads.slice(start, start + chunk);
      chunks.push(part);
      const keys = part.map(([agent]) => streams[agent]!);
      pipeline.xreadgroup('GROUP', 'g', 'c', 'COUNT', 1, 'STREAMS', ...keys, ...keys.map(() => '>'));
    }
    void pipeline.exec().then((results) => {
      const replies = results!.slice(results!.length - chunks.length);
      chunks.forEach((part, index) => {
        const reply = replies[index]![1] as Array<[string, Array<[string, string[]]>]> | null;
        const got = new Map<number, Entry>();
        for (const [stream, entries] of reply ?? []) {
          const entry = entries[0];
          if (entry !== undefined) got.set(indexOf.get(stream)!, { id: entry[0], envelope: JSON.parse(entry[1][1]!) });
        }
        for (const [agent, resolve] of part) {
          const entry = got.get(agent);
          if (entry !== undefined) resolve(entry);
          else drained[agent] = resolve;
        }
      });
    });
  };
  const flushReadsLean = (acks: Array<[number, string]>, reads: Array<[number, (entry: Entry) => void]>) => {
    const socket = client.stream;
    socket.cork();
    for (const [agent, id] of acks) {
      raw(client, ['XACK', streams[agent]!, 'g', id]).catch(ignore);
      if (++acksSinceTrim[agent]! >= TRIM_EVERY) {
        acksSinceTrim[agent] = 0;
        raw(client, ['XTRIM', streams[agent]!, 'MINID', id]).catch(ignore);
      }
    }
    for (let start = 0; start < reads.length; start += chunk) {
      const part = reads.slice(start, start + chunk);
      const argv = ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'STREAMS'];
      for (const [agent] of part) argv.push(streams[agent]!);
      for (let index = 0; index < part.length; index++) argv.push('>');
      void raw(client, argv).then((reply) => {
        // Streams that gave nothing are left out of the reply; the rest come in the order asked.
        const replies = (reply ?? []) as Array<[Buffer, Array<[Buffer, Buffer[]]>]>;
        let at = 0;
        for (const [agent, resolve] of part) {
          const next = replies[at];
          if (next?.[0].equals(keyBuffers[agent]!)) {
            at++;
            const entry = next[1][0]!;
            resolve({ id: entry[0].toString('latin1'), envelope: JSON.parse(entry[1][1]!.toString()) });
          } else drained[agent] = resolve;
        }
      }, ignore);
    }
    socket.uncork();
  };
  const ackAndRead = (agent: number, id: string) =>
    new Promise<Entry>((resolve) => {
      ackQueue.push([agent, id]);
      queueRead(agent, resolve);
    });

  let stop = false;
  const backlog = new SendBacklog(agentCount * 20);
  const loops = streams.map(async (_, agent) => {
    let entry = await new Promise<Entry>((resolve) => queueRead(agent, resolve));
    while (!stop) {
      // The turn: a no-op.
      entry = await ackAndRead(agent, entry.id);
      backlog.ack(1);
    }
  });

  if (options.commandStats === true) await client.config('RESETSTAT');
  const result = await backlog.send({ ...options, senders: SENDERS }, (index) => send(index % agentCount));
  stop = true;
  if (options.commandStats === true) {
    // Redis's commands per message over the whole run (warmup included): `INFO commandstats`.
    const stats = await client.info('commandstats');
    for (const line of stats.split('\n')) {
      const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
      if (match === null || match[1] === 'config') continue;
      console.log(
        `  ${match[1]!.padEnd(12)} ${(Number(match[2]) / backlog.acked).toFixed(3)} calls/msg  ${(Number(match[3]) / backlog.acked).toFixed(2)} µs/msg`,
      );
    }
  }
  // Let the loops run dry (each gets its entry or stays parked; nothing awaits them after this).
  void loops;
  await client.del(...streams);
  return result;
}
