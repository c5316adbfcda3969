import { z } from 'zod';
import { ChatMessageSchema } from './chat.js';

export const CONTEXT_VERSION = 1 as const;

/** What an agent remembers between turns. Versioned: stores keep old versions loadable. */
export const AgentContextSchema = z.object({
  version: z.literal(CONTEXT_VERSION),
  agentId: z.string(),
  messages: z.array(ChatMessageSchema),
  /** Task state the agent carries between turns (JSON). */
  state: z.record(z.string(), z.unknown()).default({}),
  turns: z.number().int().nonnegative().default(0),
  updatedAt: z.number(),
});
export type AgentContext = z.infer<typeof AgentContextSchema>;

/** Persistence of agent contexts. In memory by default; `@agentrix/store` makes it durable. */
export interface ContextStore {
  load(agentId: string): Promise<AgentContext | undefined>;
  save(context: AgentContext): Promise<void>;
  delete(agentId: string): Promise<void>;
}
