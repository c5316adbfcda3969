import type { RedisClientLike } from '@agentrix/core/implement';

/** The part of an ioredis `Command` used here: its arguments, and what it writes to the socket. */
interface ScriptCommand {
  args: string[];
  toWritable(): string | Buffer;
}

/** ioredis's `Command` class. */
type CommandClass = new (name: string, args: string[], options: { replyEncoding: 'utf8' | null }) => ScriptCommand;

/**
 * How a reply comes back: `strings` (ioredis turns every bulk string into a string, copying every
 * array of the reply on the way), or `buffers` (as the parser made them: the caller turns into
 * strings only what it keeps; `replyText`). Through a client's own methods (a `Cluster`, or before
 * ioredis's `Command` class has loaded) replies are strings either way.
 */
export type ReplyForm = 'strings' | 'buffers';

interface CommandSender {
  readonly isCluster?: boolean;
  sendCommand(command: ScriptCommand): Promise<unknown>;
  /** ioredis's socket while connected. */
  readonly stream?: { cork?(): void; uncork?(): void };
}

const NO_ARGUMENTS: string[] = [];
const CR = 13;
const LF = 10;
/**
 * Arguments up to this many characters are measured and copied by a loop here; longer ones (an
 * envelope) by one `Buffer.byteLength` / `buffer.write` each. A call into Buffer's native code
 * costs about 100-200 ns whatever the length: a batch script has 4-6 short arguments per message
 * (inbox, consumer, ids, counts) and encoding took 18% of the bus's Node CPU when each argument
 * and its length digits went through `buffer.write` (bench/bus/e2e-only.ts under --cpu-prof).
 */
const SHORT = 64;

/** The UTF-8 length of `text`: its length when short and ASCII (no native call), else Buffer's count. */
function byteLength(text: string): number {
  if (text.length > SHORT) return Buffer.byteLength(text);
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) > 127) return Buffer.byteLength(text);
  }
  return text.length;
}

/** How many decimal digits `value` (a non-negative integer) has. */
function digits(value: number): number {
  let count = 1;
  while (value >= 10) {
    value = Math.floor(value / 10);
    count++;
  }
  return count;
}

/** Writes `value` (a non-negative integer) in decimal at `offset`; returns the offset after it. */
function writeDigits(buffer: Buffer, offset: number, value: number): number {
  const end = offset + digits(value);
  let at = end;
  do {
    buffer[--at] = 48 + (value % 10);
    value = Math.floor(value / 10);
  } while (value > 0);
  return end;
}

/** Writes `$<length>\r\n<text>\r\n` at `offset`; returns the offset after it. */
function writeBulk(buffer: Buffer, offset: number, text: string, length: number): number {
  buffer[offset++] = 36; // $
  offset = writeDigits(buffer, offset, length);
  buffer[offset++] = CR;
  buffer[offset++] = LF;
  if (length === text.length && length <= SHORT) {
    // ASCII (as many bytes as characters): copied here, no native call.
    for (let index = 0; index < length; index++) buffer[offset + index] = text.charCodeAt(index);
    offset += length;
  } else {
    offset += buffer.write(text, offset);
  }
  buffer[offset++] = CR;
  buffer[offset++] = LF;
  return offset;
}

/**
 * The command in Redis's protocol (RESP), in one buffer of the exact size: `*<n>\r\n` then
 * `$<bytes>\r\n<argument>\r\n` per argument. ioredis's own `toWritable` appends the same text
 * to a string piece by piece (five string parts per argument) and Node then flattens and encodes
 * it: about 1.5 KB of garbage per message, the largest share of the bus's allocation
 * (`bench/bus/allocation.ts`).
 */
function encodeCommand(name: string, argv: readonly string[]): Buffer {
  const lengths = new Array<number>(argv.length);
  let size = 1 + digits(argv.length + 1) + 2 + 1 + digits(name.length) + 2 + name.length + 2;
  for (let index = 0; index < argv.length; index++) {
    const length = byteLength(argv[index]!);
    lengths[index] = length;
    size += 1 + digits(length) + 2 + length + 2;
  }
  const buffer = Buffer.allocUnsafe(size);
  buffer[0] = 42; // *
  let offset = writeDigits(buffer, 1, argv.length + 1);
  buffer[offset++] = CR;
  buffer[offset++] = LF;
  offset = writeBulk(buffer, offset, name, name.length);
  for (let index = 0; index < argv.length; index++) {
    offset = writeBulk(buffer, offset, argv[index]!, lengths[index]!);
  }
  return buffer;
}

/**
 * ioredis's `Command` class, loaded on the first script call (ioredis is an optional peer
 * dependency, so it is never imported statically; a client's own class is not reachable from it,
 * as ioredis's event-emitter mixin overwrites `constructor`). Until it has loaded, and when
 * ioredis cannot be loaded, scripts go through `evalsha` / `eval`. Immutable once set.
 */
let commandClass: CommandClass | undefined;
let loadStarted = false;

function loadCommandClass(): void {
  if (loadStarted) return;
  loadStarted = true;
  import('ioredis').then(
    (ioredis) => {
      commandClass = ioredis.Command as unknown as CommandClass;
    },
    () => {},
  );
}

/**
 * `EVALSHA` or `EVAL` (`name`) with `script` (a sha or a source), `keys` and `args`.
 *
 * Why not `client.evalsha(...)`: ioredis's command methods copy their arguments with
 * `Array.prototype.flat`, which costs 100-180 ns per argument on Node 20 (measured: 25 µs for a
 * batch script of 150 arguments, about 2 µs of the bus's 16 µs of Node CPU per message). Here the
 * argument list is built once, as strings, and handed to a `Command` (written to the socket as
 * one buffer, see {@link encodeCommand}) and the client's `sendCommand` (public ioredis API). A
 * `Cluster` routes each command by the slot of its keys, which its own methods work out: it goes
 * through `evalsha` / `eval`.
 */
export function sendScript(
  client: RedisClientLike,
  name: 'evalsha' | 'eval',
  script: string,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
  replies: ReplyForm = 'strings',
): Promise<unknown> {
  const sender = directSender(client);
  if (sender === undefined) {
    return name === 'evalsha'
      ? client.evalsha(script, keys.length, ...keys, ...args)
      : client.eval(script, keys.length, ...keys, ...args);
  }
  const argv = new Array<string>(2 + keys.length + args.length);
  argv[0] = script;
  argv[1] = String(keys.length);
  let index = 2;
  for (const key of keys) argv[index++] = key;
  for (const arg of args) argv[index++] = typeof arg === 'string' ? arg : String(arg);
  return send(sender, name, argv, replies);
}

/**
 * Any other command (`name` and its arguments, all strings) the same way: one buffer, no copy of
 * the arguments (the plain `XREADGROUP` of busy inboxes: 6 + 2 arguments per stream). Through
 * `client.call` on a `Cluster` or before ioredis's `Command` class has loaded.
 */
export function sendPlainCommand(
  client: RedisClientLike,
  name: string,
  argv: string[],
  replies: ReplyForm = 'strings',
): Promise<unknown> {
  const sender = directSender(client);
  if (sender === undefined) return client.call(name, ...argv);
  return send(sender, name, argv, replies);
}

/**
 * The client, when a command can go to it as one buffer through its `sendCommand`; `undefined` on
 * a `Cluster` (its own methods route by slot) or before ioredis's `Command` class has loaded
 * (then it starts loading).
 */
function directSender(client: RedisClientLike): CommandSender | undefined {
  const sender = client as unknown as Partial<CommandSender>;
  if (commandClass !== undefined && sender.isCluster !== true && typeof sender.sendCommand === 'function')
    return sender as CommandSender;
  if (commandClass === undefined) loadCommandClass();
  return undefined;
}

function send(sender: CommandSender, name: string, argv: string[], replies: ReplyForm): Promise<unknown> {
  const Command = commandClass as CommandClass;
  // Constructed without arguments (so nothing is copied), then given the list built by the caller.
  const command = new Command(name, NO_ARGUMENTS, { replyEncoding: replies === 'strings' ? 'utf8' : null });
  command.args = argv;
  command.toWritable = () => encodeCommand(name, argv);
  return sender.sendCommand(command);
}

/**
 * Runs `send` (which sends commands on `client`) with the client's socket corked: the commands
 * it writes leave in one write (`writev`) instead of one each. A socket write is a system call;
 * the plain `XREADGROUP` beside the ack script made it two per read batch (100 agents: Node
 * 0.7-1.1 µs more per message in `writeBuffer`, bench/bus `--cpu-prof`).
 */
export function corked<T>(client: RedisClientLike, send: () => T): T {
  const socket = (client as unknown as Partial<CommandSender>).stream;
  if (typeof socket?.cork !== 'function' || typeof socket.uncork !== 'function') return send();
  socket.cork();
  try {
    return send();
  } finally {
    socket.uncork();
  }
}
