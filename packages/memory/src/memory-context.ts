/**
 * What the parts of a `Memory` share (its fact, episode, embedding and forgetting
 * functions): the database and the settings its constructor resolved from `MemoryOptions`.
 */
import type { AgentrixEvents, ChatModel, Clock, IdGenerator } from '@agentrix/core';
import type { Database } from '@agentrix/store';
import type { EmbeddingCache } from './embedding-cache.js';
import type { TableStatistics } from './table-statistics.js';

export interface MemoryContext {
  readonly database: Database;
  readonly events: AgentrixEvents;
  readonly clock: Clock;
  readonly generateId: IdGenerator;
  /** The summary model, if any: episodes are stored as transcripts without one. */
  readonly model: ChatModel | undefined;
  readonly summaryTier: string;
  /** The embedder behind its cache; undefined without one. */
  readonly embeddings: EmbeddingCache | undefined;
  /** The embedding column of the embedder's dimensions; undefined without an embedder. */
  readonly column: string | undefined;
  /** Text longer than this is cut with a marker. */
  readonly maxText: number;
  readonly statistics: TableStatistics;
}
