import { z } from 'zod';
import { abortError } from './async.js';
import { type Clock, systemClock } from './clock.js';
import { AgentrixError, invalidArgument } from './errors.js';
import { AgentrixEvents } from './events.js';
import { type IdGenerator, randomId } from './ids.js';
import {
  AddressSchema,
  type BroadcastInput,
  BroadcastInputSchema,
  type MessageEnvelope,
  type SendInput,
  SendInputSchema,
  TRACEPARENT,
} from './message.js';
import type { MessageBusOptions, ReadOptions } from './message-bus.js';
import { formatIssues } from './validation.js';

// Shared by every MessageBus implementation (InMemoryBus, RedisStreamsBus, SqlMessageBus), so
// they reject the same input with the same codes and messages.

/** UTF-8 length of a string without encoding it (works outside Node, allocates nothing). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        index++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Throws `MESSAGE_TOO_LARGE` when `content` plus the JSON of `data` is over `limit` UTF-8 bytes,
 * and `INVALID_MESSAGE` when `data` cannot be turned into JSON. Short messages (the usual case)
 * skip the exact count: three bytes per UTF-16 unit is an upper bound.
 */
export function checkMessageSize(content: string, data: unknown, limit: number, to: string): void {
  let json: string | undefined;
  if (data !== undefined) {
    try {
      json = JSON.stringify(data);
    } catch (error) {
      throw new AgentrixError(
        'INVALID_MESSAGE',
        `Invalid message: data must be JSON-serializable (${error instanceof Error ? error.message : String(error)}); send plain objects, arrays, strings, numbers, booleans or null`,
        { cause: error },
      );
    }
  }
  const upperBound = (content.length + (json === undefined ? 0 : json.length)) * 3;
  if (upperBound <= limit) return;
  const size = utf8Length(content) + (json === undefined ? 0 : utf8Length(json));
  if (size <= limit) return;
  throw new AgentrixError(
    'MESSAGE_TOO_LARGE',
    `Message to "${to}" is ${size} bytes (UTF-8 content plus JSON data), over the limit of ${limit} bytes (maxMessageBytes). ` +
      'Store large payloads elsewhere and send a reference (an id or URL), split the message, or raise maxMessageBytes.',
    { details: { size, limit, to } },
  );
}

/** An address (inbox, group, member) or an INVALID_ARGUMENT naming `what` it was. */
export function validateAddress(value: string, what: string): string {
  // The schema's result for a valid address without running it (every read, ack and send checks
  // one: the parse allocated about 150 bytes per message on the Redis bus); the schema words the error.
  if (typeof value === 'string' && ADDRESS.test(value)) return value;
  const result = AddressSchema.safeParse(value);
  if (result.success) return result.data;
  throw invalidArgument(
    `Invalid ${what} ${quote(value)}: ${result.error.issues.map((issue) => issue.message).join('; ')}`,
    { cause: result.error },
  );
}

export function positiveLimit(limit: number | undefined, fallback: number, operation: string): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1) {
    throw invalidArgument(`${operation} limit must be a positive integer, got ${quote(limit)}`);
  }
  return limit;
}

/**
 * The message ids given to `redrive` / `discardDeadLetters`, checked (non-empty strings) and
 * without repeats, so a repeated id never counts twice.
 */
export function messageIds(ids: readonly string[], operation: string): string[] {
  if (!Array.isArray(ids)) throw invalidArgument(`${operation} ids must be an array of message ids, got ${quote(ids)}`);
  for (const id of ids) {
    if (typeof id !== 'string' || id === '') {
      throw invalidArgument(`${operation} ids must be non-empty strings, got ${quote(id)}`);
    }
  }
  return [...new Set(ids)];
}

export function invalidMessage(error: Parameters<typeof formatIssues>[0]): AgentrixError {
  return new AgentrixError('INVALID_MESSAGE', `Invalid message: ${formatIssues(error)}`, {
    cause: error,
    details: { issues: error.issues },
  });
}

/** What every method of a closed bus throws (`bus` names its class). */
export function busClosed(bus: string, operation: string): AgentrixError {
  return new AgentrixError('CLOSED', `Cannot ${operation}: this ${bus} is closed. Create a new bus to continue.`);
}

export function groupNotFound(group: string): AgentrixError {
  return new AgentrixError('GROUP_NOT_FOUND', `Group "${group}" does not exist: create it with createGroup first.`, {
    details: { group },
  });
}

export function quote(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value === 'number' || typeof value === 'boolean' || value == null ? String(value) : typeof value;
}

const isClock = (value: unknown): value is Clock =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Clock).now === 'function' &&
  typeof (value as Clock).setTimeout === 'function' &&
  typeof (value as Clock).clearTimeout === 'function';

/** Default `limit` of `deadLetters` on every bus. */
export const DEFAULT_DEAD_LETTER_LIMIT = 100;

/** The zod fields (with defaults) of {@link MessageBusOptions}, to spread into a bus's own options schema. */
export const messageBusOptionFields = {
  clock: z
    .custom<Clock>(isClock, 'expected a Clock with now(), setTimeout() and clearTimeout()')
    .default(() => systemClock),
  generateId: z
    .custom<IdGenerator>((value) => typeof value === 'function', 'expected a function returning a string id')
    .default(() => randomId),
  events: z
    .custom<AgentrixEvents>(
      (value) => value instanceof AgentrixEvents || (typeof value === 'object' && value !== null && 'has' in value),
      'expected an AgentrixEvents instance',
    )
    .optional(),
  consumer: AddressSchema.default('default'),
  leaseMs: z.number().int().positive().default(30_000),
  maxDeliveries: z.number().int().min(1).default(5),
  maxMessageBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
};

/** `read` options with defaults filled in. */
export interface ResolvedReadOptions {
  consumer: string;
  max: number;
  blockMs: number | undefined;
  signal: AbortSignal | undefined;
}

/**
 * Validates `read` options the way every bus does (INVALID_ARGUMENT naming the bad value), fills
 * the defaults (`max` 16) and rejects with ABORTED when the signal has already fired.
 */
export function resolveReadOptions(options: ReadOptions | undefined, defaultConsumer: string): ResolvedReadOptions {
  const consumer = options?.consumer ?? defaultConsumer;
  const max = options?.max ?? 16;
  const blockMs = options?.blockMs;
  const signal = options?.signal;
  if (typeof consumer !== 'string' || consumer.length === 0) {
    throw invalidArgument(`read consumer must be a non-empty string, got ${quote(consumer)}`);
  }
  if (!Number.isInteger(max) || max < 1) {
    throw invalidArgument(`read max must be a positive integer, got ${quote(max)}`);
  }
  if (blockMs !== undefined && (typeof blockMs !== 'number' || !(blockMs >= 0))) {
    throw invalidArgument(
      `read blockMs must be a number >= 0 or undefined (wait until a message arrives), got ${quote(blockMs)}`,
    );
  }
  if (signal?.aborted) throw abortError(signal, 'read');
  return { consumer, max, blockMs, signal };
}

/** A send input that passed validation and the size check, not yet completed into an envelope. */
export type CheckedSend = z.output<typeof SendInputSchema>;

/** Parses what `send` was given (INVALID_MESSAGE naming the fields) and checks its size (MESSAGE_TOO_LARGE). */
export function checkSendInput(input: SendInput, maxMessageBytes: number): CheckedSend {
  let message = plainSendInput(input);
  if (message === undefined) {
    const parsed = SendInputSchema.safeParse(input);
    if (!parsed.success) throw invalidMessage(parsed.error);
    message = parsed.data;
  }
  checkMessageSize(message.content, message.data, maxMessageBytes, message.to);
  return message;
}

const ADDRESS = /^[A-Za-z0-9_.:-]{1,128}$/;
const THREAD = /^[A-Za-z0-9_.:@-]{1,200}$/;

/**
 * Addresses that passed {@link ADDRESS} lately. A send checks two or three: a lookup is 13 ns
 * here against the regex's 43 (bench/runtime section 4, fifth pass). Emptied when full, so a
 * process that sends to ever new addresses keeps at most this many.
 */
const knownAddresses = new Set<string>();
const KNOWN_ADDRESSES_MAX = 4096;

function isAddress(value: string): boolean {
  if (knownAddresses.has(value)) return true;
  if (!ADDRESS.test(value)) return false;
  if (knownAddresses.size >= KNOWN_ADDRESSES_MAX) knownAddresses.clear();
  knownAddresses.add(value);
  return true;
}

/**
 * The schema's result for the usual send (addresses, text and optional plain fields, nothing
 * else) without running the schema: a send is on every hot path. Anything it is unsure of
 * (headers, an unknown key, a bad value) returns undefined and goes through the schema, which
 * gives the same result or the error.
 */
function plainSendInput(input: unknown): CheckedSend | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined;
  const value = input as Record<string, unknown>;
  const { from, to, content } = value;
  if (typeof from !== 'string' || typeof to !== 'string' || typeof content !== 'string') return undefined;
  if (!isAddress(from) || !isAddress(to)) return undefined;
  const out: Record<string, unknown> = { id: undefined, from, to, type: undefined, content };
  for (const key in value) {
    const field = value[key];
    if (field === undefined) continue;
    switch (key) {
      case 'from':
      case 'to':
      case 'content':
        break;
      case 'id':
        if (typeof field !== 'string' || field.length === 0 || field.length > 200) return undefined;
        out.id = field;
        break;
      case 'type':
        if (typeof field !== 'string' || field.length === 0 || field.length > 64) return undefined;
        out.type = field;
        break;
      case 'replyTo':
        if (typeof field !== 'string' || !isAddress(field)) return undefined;
        out.replyTo = field;
        break;
      case 'externalId':
        if (typeof field !== 'string' || field.length > 200) return undefined;
        out.externalId = field;
        break;
      case 'threadId':
        if (typeof field !== 'string' || !THREAD.test(field)) return undefined;
        out.threadId = field;
        break;
      case 'inReplyTo':
      case 'correlationId':
        if (typeof field !== 'string') return undefined;
        out[key] = field;
        break;
      case 'data':
        out.data = field;
        break;
      case 'trace':
        if (!isTraceCarrier(field)) return undefined;
        out.trace = field;
        break;
      default:
        return undefined;
    }
  }
  // id and type stay undefined when not given: completeEnvelope fills them (one object shape).
  return out as CheckedSend;
}

/** A `{ traceparent, tracestate? }` the schema would take unchanged (anything else goes through the schema). */
function isTraceCarrier(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { traceparent, tracestate, ...rest } = value as Record<string, unknown>;
  for (const _ in rest) return false;
  return (
    typeof traceparent === 'string' &&
    TRACEPARENT.test(traceparent) &&
    (tracestate === undefined || (typeof tracestate === 'string' && tracestate.length <= 512))
  );
}

/**
 * Completes a checked send into an envelope, in place (the parsed input is a fresh object):
 * an id unless the sender gave one, type `message` unless given, and `createdAt`.
 */
export function completeEnvelope(message: CheckedSend, generateId: IdGenerator, now: number): MessageEnvelope {
  const envelope = message as MessageEnvelope;
  if (message.id === undefined) envelope.id = generateId();
  if (message.type === undefined) envelope.type = 'message';
  envelope.createdAt = now;
  return envelope;
}

/** Parses what `broadcast` was given (INVALID_MESSAGE naming the fields). Size is checked by the caller after the group is found. */
export function parseBroadcastInput(input: BroadcastInput): z.output<typeof BroadcastInputSchema> {
  const parsed = BroadcastInputSchema.safeParse(input);
  if (!parsed.success) throw invalidMessage(parsed.error);
  return parsed.data;
}
