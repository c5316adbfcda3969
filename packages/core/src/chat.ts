import { z } from 'zod';

/** A tool call requested by the model. `arguments` is the raw JSON text the model produced. */
export const ToolCallSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

export const SystemMessageSchema = z.object({ role: z.literal('system'), content: z.string() });
export const UserMessageSchema = z.object({
  role: z.literal('user'),
  content: z.string(),
  /** Who said it (an agent id, `host`, `cron`, ...), when the conversation has several speakers. */
  name: z.string().optional(),
});
export const AssistantMessageSchema = z.object({
  role: z.literal('assistant'),
  content: z.string(),
  toolCalls: z.array(ToolCallSchema).optional(),
});
export const ToolMessageSchema = z.object({
  role: z.literal('tool'),
  toolCallId: z.string(),
  name: z.string(),
  content: z.string(),
  isError: z.boolean().optional(),
});

export const ChatMessageSchema = z.discriminatedUnion('role', [
  SystemMessageSchema,
  UserMessageSchema,
  AssistantMessageSchema,
  ToolMessageSchema,
]);
export type SystemMessage = z.infer<typeof SystemMessageSchema>;
export type UserMessage = z.infer<typeof UserMessageSchema>;
export type AssistantMessage = z.infer<typeof AssistantMessageSchema>;
export type ToolMessage = z.infer<typeof ToolMessageSchema>;
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/** Token usage of one model call. `estimated` is true when counted locally because the provider sent none. */
export const UsageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cachedInputTokens: z.number().int().nonnegative().optional(),
  estimated: z.boolean().optional(),
});
export type Usage = z.infer<typeof UsageSchema>;

export const emptyUsage = (): Usage => ({ inputTokens: 0, outputTokens: 0 });

/** Adds `b` into `a` in place and returns `a`. */
export function addUsage(a: Usage, b: Usage): Usage {
  a.inputTokens += b.inputTokens;
  a.outputTokens += b.outputTokens;
  if (b.cachedInputTokens) a.cachedInputTokens = (a.cachedInputTokens ?? 0) + b.cachedInputTokens;
  if (b.estimated) a.estimated = true;
  return a;
}

/** A tool as the model sees it: a name, a description and JSON Schema parameters. */
export interface ToolDefinition {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** Who a call is for: the gateway uses these to pick budgets and write the ledger. */
export interface CallScope {
  agentId?: string;
  /** The conversation of the agent the call is made for (memory is scoped to it). */
  threadId?: string;
  userId?: string;
  workflowId?: string;
  tags?: string[];
}

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  /** A concrete provider model, when the caller wants one. */
  model?: string;
  /** A model tier (`small`, `large`, ...), resolved by the gateway. */
  tier?: string;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
  responseFormat?:
    | { type: 'text' }
    | { type: 'json_object' }
    | { type: 'json_schema'; name: string; schema: Record<string, unknown> };
  /** Passed through to the provider untouched (and part of any cache key). */
  providerOptions?: Record<string, unknown>;
  scope?: CallScope;
  signal?: AbortSignal;
}

export type FinishReason = 'stop' | 'tool_calls' | 'length' | 'content_filter' | 'error' | 'other';

export interface ChatResponse {
  message: AssistantMessage;
  finishReason: FinishReason;
  usage: Usage;
  /** The model that answered. */
  model: string;
}

/**
 * One part of a streamed answer. A stream ends with exactly one `finish` part carrying the
 * complete response; text arrives as `text-delta` parts before it.
 */
export type ChatStreamPart =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call-delta'; index: number; id?: string; name?: string; argumentsDelta: string }
  | { type: 'finish'; response: ChatResponse };

/**
 * The model port. Providers (OpenAI, ...), the gateway's wrappers and `MockLLM` all implement it.
 * Both methods honour `request.signal`.
 */
export interface ChatModel {
  /** A readable name for logs and events (provider and model). */
  readonly name: string;
  /**
   * True when the model retries failed calls itself with its own policy (the gateway does): a
   * caller that also retries (the runtime's `modelRetry`) then makes one attempt per call, so
   * exactly one layer retries and the provider is reached at most the model's attempts per call.
   */
  readonly managesRetries?: boolean;
  generate(request: ChatRequest): Promise<ChatResponse>;
  stream(request: ChatRequest): AsyncIterable<ChatStreamPart>;
}

/** The embeddings port. */
export interface Embedder {
  readonly name: string;
  readonly dimensions: number;
  embed(texts: string[], options?: { signal?: AbortSignal; scope?: CallScope }): Promise<number[][]>;
}
