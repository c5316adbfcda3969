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
  /**
   * Rewrites each retrieval's question into search queries (one per part, in the words an answer
   * would use), tier `summaryTier`, tag `memory.rewrite`: pass the gateway so the calls are
   * budgeted and metered. One call per `retrieve` with a query. Without one, or when it fails
   * (`memory.rewrite-failed`), multi-part questions are split by rules.
   */
  rewrite?: ChatModel | undefined;
  /** The model tier asked for summaries and rewrites. Default `'small'`. */
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
  /**
   * When the exchange happened (a Date or epoch ms); default now. Importing an existing history,
   * pass each turn's original time: retrieval prints it and recency orders by it. Later than now
   * (beyond 5 minutes of clock skew) is an `INVALID_ARGUMENT`.
   */
  occurredAt?: Date | number | undefined;
  tags?: string[] | undefined;
  signal?: AbortSignal | undefined;
}

export interface RetrieveOptions {
  /** Whose memories to search: one user, one agent, one thread, shared namespaces (see `MemoryQueryScope`). */
  scope: MemoryQueryScope;
  /**
   * What to look for (usually the last user message). Its words are ranked by BM25; stop words
   * do not count; only its first 8,000 characters and 64 distinct words are searched. An empty
   * query (or one of stop words only) retrieves the recent episodes only.
   */
  query: string;
  /**
   * Tokens the rendered memories may take, by the memory's `countTokens`: facts and episodes
   * are added best first until the next one does not fit, so the budget, not a count, decides
   * how much comes back; what the matches, their replies, the recent episodes and (for a question
   * about a preference) the asked person's self-disclosures leave is spent on the conversation
   * around the best matches, nearest turns first. A budget too small for one line returns
   * nothing. Default 1000.
   */
  maxTokens?: number | undefined;
  /** At most this many facts (a cap within the budget). Default: as many as fit. */
  facts?: number | undefined;
  /**
   * At most this many relevant episodes, not counting the short replies kept with them; with a
   * cap set, no self-disclosure and no conversation around the matches is added. Default: as
   * many as fit.
   */
  relevantEpisodes?: number | undefined;
  /** The most recent episodes to keep besides the relevant ones (after the two best). Default 2. */
  recentEpisodes?: number | undefined;
  signal?: AbortSignal | undefined;
}
