import { z } from 'zod';

/** Agent ids, group names and inbox addresses: 1-128 characters of letters, digits and `_ . : -`. */
export const AddressSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'use 1-128 letters, digits, "_", ".", ":" or "-"');

/**
 * The prefix of a reply inbox: where one asker (an `AgentManager`, `host:<consumer>`) reads the
 * replies to its asks and matches each to the ask waiting for it by `inReplyTo`, dropping any it
 * does not wait for. A duplicate request or reply there is harmless, so a bus need not remember
 * the ids of messages to or answered at one (the in-memory bus does not: retained envelopes cost
 * a quarter of an ask's time in garbage collection, bench/runtime section 4).
 */
export const REPLY_INBOX_PREFIX = 'host:';

/** Whether `address` is a reply inbox (see {@link REPLY_INBOX_PREFIX}). */
export function isReplyInbox(address: string): boolean {
  return address.startsWith(REPLY_INBOX_PREFIX);
}

/** The thread a conversation without a thread id belongs to. */
export const DEFAULT_THREAD = 'main';

/** A conversation id within an agent: 1-200 characters of letters, digits and `_ . : @ -`. */
export const ThreadIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.:@-]+$/, 'use 1-200 letters, digits, "_", ".", ":", "@" or "-"');

/**
 * Whom work is charged to besides the agent (budgets, ledger): an agent spec's `scope`, and the
 * scope a delegating sender hands on in its envelope.
 */
export const ChargeScopeSchema = z.strictObject({
  userId: z.string().min(1).max(200).optional(),
  workflowId: z.string().min(1).max(200).optional(),
  tags: z.array(z.string().min(1).max(100)).max(32).optional(),
});

/** A W3C `traceparent`: version 00, 32 hex trace id, 16 hex span id, 2 hex flags. */
export const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Trace context carried by a message (W3C Trace Context, https://www.w3.org/TR/trace-context/). */
export const TraceCarrierSchema = z.strictObject({
  traceparent: z.string().regex(TRACEPARENT, 'expected a W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex>'),
  /** At most 512 characters, the W3C limit a vendor may rely on. */
  tracestate: z.string().max(512).optional(),
});
export type TraceCarrier = z.infer<typeof TraceCarrierSchema>;

/** The envelope every message travels in, whatever bus carries it. */
export const MessageEnvelopeSchema = z.object({
  /** Unique message id (assigned by the bus when not given). */
  id: z.string().min(1).max(200),
  /** Who sent it: an agent id, `host`, `cron`, `channel:telegram`, ... */
  from: AddressSchema,
  /** The inbox it was delivered to. */
  to: AddressSchema,
  /** What it is: `message` (default), `reply`, `tick`, `job`, ... */
  type: z.string().min(1).max(64),
  /** Text for the model. */
  content: z.string(),
  /** Structured payload, JSON-serializable. */
  data: z.unknown().optional(),
  /** Where the reply should go. No replyTo, no reply is sent (this is what stops reply loops). */
  replyTo: AddressSchema.optional(),
  /** The id of the message this one answers. */
  inReplyTo: z.string().optional(),
  /** A conversation or workflow id carried through replies. */
  correlationId: z.string().optional(),
  /**
   * The conversation of the recipient this message belongs to: the agent keeps one context per
   * (agent, thread) and runs the turns of one thread one after another. Default `main`.
   */
  threadId: ThreadIdSchema.optional(),
  /**
   * Whom the recipient's work is charged to, when the sender hands its own budget scope on (a
   * delegated sub-task runs under its parent's `userId` / `workflowId` / `tags`).
   */
  scope: ChargeScopeSchema.optional(),
  /** The agents that delegated this message, outermost first: an agent on this path cannot be asked again (no cycles). */
  via: z.array(AddressSchema).max(32).optional(),
  /** An id from the outside world (a chat update id, ...) used for de-duplication. */
  externalId: z.string().max(200).optional(),
  /** The group it was broadcast to, when it was. */
  group: AddressSchema.optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /**
   * The W3C trace context of the span that sent it (`traceparent`, `tracestate`): a turn that
   * handles the message continues that trace, in any process. Set by `@agentrix/otel`.
   */
  trace: TraceCarrierSchema.optional(),
  /** Epoch milliseconds. */
  createdAt: z.number(),
});
export type MessageEnvelope = z.infer<typeof MessageEnvelopeSchema>;

/** What a sender provides; the bus fills `id`, `type` and `createdAt`. */
export const SendInputSchema = MessageEnvelopeSchema.omit({
  id: true,
  type: true,
  createdAt: true,
  group: true,
}).extend({
  id: z.string().min(1).max(200).optional(),
  type: z.string().min(1).max(64).optional(),
});
export type SendInput = z.input<typeof SendInputSchema>;

export const BroadcastInputSchema = SendInputSchema.omit({ to: true }).extend({ group: AddressSchema });
export type BroadcastInput = z.input<typeof BroadcastInputSchema>;
