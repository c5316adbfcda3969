import { z } from 'zod';
import { ChatMessageSchema } from './chat.js';

/**
 * The version of the context document. 2 added `threadId` (one context per (agent, thread));
 * version 1 documents are the agent's only thread, `main`, and load as such.
 */
export const CONTEXT_VERSION = 2 as const;

/** What an agent remembers of one conversation between turns. Versioned: stores keep old versions loadable. */
export const AgentContextSchema = z.object({
  version: z.literal(CONTEXT_VERSION),
  agentId: z.string(),
  /** The conversation (`main` unless a message said otherwise). */
  threadId: z.string(),
  messages: z.array(ChatMessageSchema),
  /** Task state the agent carries between turns (JSON). */
  state: z.record(z.string(), z.unknown()).default({}),
  turns: z.number().int().nonnegative().default(0),
  updatedAt: z.number(),
});
export type AgentContext = z.infer<typeof AgentContextSchema>;

/** One conversation of an agent, as listed by {@link ContextStore.threads}. */
export interface ThreadInfo {
  threadId: string;
  turns: number;
  /** Epoch milliseconds of the last saved turn. */
  updatedAt: number;
}

/**
 * Persistence of contexts, one per (agent, thread). In memory by default; `@agentrix/store`
 * makes it durable. `load` returns the document as stored, whatever its version (the runtime
 * upgrades old versions). Contexts are values: a caller never changes one it loaded or saved (a
 * store may keep and hand out the object itself, as the in-memory one does).
 */
export interface ContextStore {
  load(agentId: string, threadId: string): Promise<AgentContext | undefined>;
  save(context: AgentContext): Promise<void>;
  /** Deletes one thread's context, or every thread of the agent when `threadId` is left out; resolves with how many were deleted. */
  delete(agentId: string, threadId?: string): Promise<number>;
  /** The agent's threads, most recently updated first, at most `limit` (default 100). */
  threads(agentId: string, options?: { limit?: number }): Promise<ThreadInfo[]>;
}
