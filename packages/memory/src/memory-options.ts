import type { AgentrixEvents, ChatMessage, ChatModel, Clock, Embedder, IdGenerator } from '@agentrix/core';
import type { Database } from '@agentrix/store';
import type { MemoryQueryScope, MemoryScope } from './scope.js';
import type { TokenCounter } from './tokens.js';

export interface MemoryOptions {
  /** Where memories live (`openDatabase(url)` from `@agentrix/store`). Not closed by the memory. */
  database: Database;
  /**
   * Writes episode summaries (pass the gateway so the calls are budgeted and metered). Without
   * one, episodes are stored as plain text flagged `unstructured`.
   */
  model?: ChatModel | undefined;
  /** The model tier asked for summaries. Default `'small'`. */
  summaryTier?: string | undefined;
  /** Adds vector similarity to full-text search. Each distinct text is embedded once. */
  embedder?: Embedder | undefined;
  /** Longest fact or episode text stored, in characters; longer text is cut with a marker. Default 4000. */
  maxTextLength?: number | undefined;
  /** Default: the package's estimate (4 characters a token); pass the gateway's `countTextTokens` for exact counts. */
  countTokens?: TokenCounter | undefined;
  /** Agents whose memory is off (no retrieval, no writes). Change later with `disable`/`enable`. */
  disabledAgents?: readonly string[] | undefined;
  /** Apply the memory migrations on create. Default `true`. */
  migrate?: boolean | undefined;
  /** The stream to emit on (give the runtime's to get one stream). Default: a new `AgentrixEvents`, as `memory.events`. */
  events?: AgentrixEvents | undefined;
  clock?: Clock | undefined;
  generateId?: IdGenerator | undefined;
  signal?: AbortSignal | undefined;
}

export interface RememberInput {
  scope: MemoryScope;
  /** Stable key: writing the same key in the same scope updates the fact in place. */
  key: string;
  text: string;
  tags?: string[] | undefined;
  sourceEpisodeId?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface RecordEpisodeInput {
  /** Whose episode it is; its stable facts go to the same scope, without the thread when there is a user. */
  scope: MemoryScope;
  /** The exchange to summarize (a turn or a whole task). */
  messages: readonly ChatMessage[];
  /**
   * The message the exchange answered. One episode per (`scope.agentId`, `messageId`): recording
   * it again returns the stored episode without asking the summary model (a redelivered turn).
   */
  messageId?: string | undefined;
  tags?: string[] | undefined;
  signal?: AbortSignal | undefined;
}

export interface RetrieveOptions {
  scope: MemoryQueryScope;
  /** What to look for (usually the last user message). */
  query: string;
  /** Facts to return. Default 10. */
  facts?: number | undefined;
  /** Most recent episodes to return. Default 2. */
  recentEpisodes?: number | undefined;
  /** Most relevant episodes to return (besides the recent ones). Default 3. */
  relevantEpisodes?: number | undefined;
  /** Tokens the rendered memories may take; the lowest ranked go first. Default 1000. */
  maxTokens?: number | undefined;
  signal?: AbortSignal | undefined;
}
