import { z } from 'zod';
import { AddressSchema, ChargeScopeSchema } from './message.js';

export const AGENT_STATES = ['created', 'idle', 'running', 'paused', 'error', 'terminated'] as const;
export const AgentStateSchema = z.enum(AGENT_STATES);
export type AgentState = z.infer<typeof AgentStateSchema>;

export const RetryPolicySchema = z.object({
  /** Attempts in all, the first included. */
  attempts: z.number().int().min(1).max(100).default(3),
  /** Delay before the second attempt; doubles each time (with jitter). */
  baseDelayMs: z.number().int().min(0).default(250),
  maxDelayMs: z.number().int().min(0).default(10_000),
});
export type RetryPolicy = z.infer<typeof RetryPolicySchema>;

/**
 * Everything needed to create an agent. Serializable, so a store can keep it. Strict: an unknown
 * key (`maxStep` for `maxSteps`) is refused, not silently dropped.
 */
export const AgentSpecSchema = z.strictObject({
  /** Unique id; also its inbox address. Generated when missing. */
  id: AddressSchema.optional(),
  /** A readable name for logs. Defaults to the id. */
  name: z.string().min(1).max(200).optional(),
  /** A short role (`planner`, `worker`, ...), free text. */
  role: z.string().max(200).optional(),
  /** The system prompt. */
  instructions: z.string().max(100_000).default(''),
  /** The name of a model registered with the manager; `default` when missing. */
  model: z.string().min(1).default('default'),
  /** A model tier for the gateway (`small`, `large`, ...). */
  tier: z.string().min(1).optional(),
  /** Whom this agent's calls are charged to (budgets, ledger); `agentId` is always added. */
  scope: ChargeScopeSchema.optional(),
  /** Names of registered tools this agent may call. */
  tools: z.array(z.string().min(1)).default([]),
  /**
   * Conversations (threads) whose turns may run at the same time. Turns of one thread always run
   * one after another. Default 4.
   */
  maxConcurrentThreads: z.number().int().min(1).max(1000).default(4),
  /** Model calls per turn before the turn stops. Default 8. */
  maxSteps: z.number().int().min(1).max(1000).default(8),
  /** A turn that runs longer is aborted. Default 120 s. */
  turnTimeoutMs: z.number().int().min(1).max(86_400_000).default(120_000),
  /** History kept in context (oldest dropped first). Default 50 messages. */
  maxHistory: z.number().int().min(0).max(100_000).default(50),
  /** Stream model answers (each token becomes an event). Default true. */
  stream: z.boolean().default(true),
  /** Retries of a failing model call inside one turn. */
  modelRetry: RetryPolicySchema.default({ attempts: 3, baseDelayMs: 250, maxDelayMs: 10_000 }),
  /** Groups to join on creation. */
  groups: z.array(AddressSchema).default([]),
  /** The parent agent, for children. A child is terminated with its parent. */
  parentId: AddressSchema.optional(),
  /** Free-form data for the host. */
  metadata: z.record(z.string(), z.unknown()).default({}),
});
export type AgentSpecInput = z.input<typeof AgentSpecSchema>;
export type AgentSpec = z.output<typeof AgentSpecSchema> & { id: string; name: string };
