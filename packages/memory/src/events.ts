import type { SerializedError } from '@agentrix/core';
import type { MemoryScope } from './scope.js';

/**
 * Every event a memory emits (`noun.action`, unique across packages). They join core's
 * `AgentrixEventMap` (below), so they arrive on the one `AgentrixEvents` stream. Listeners run
 * synchronously: keep them cheap.
 */
export interface MemoryEventMap {
  /** The embedder failed: full-text search still works; the texts were stored without embeddings. */
  'memory.embedder-failed': { operation: 'write' | 'query'; texts: number; error: SerializedError };
  /** The summary model's JSON failed its schema (attempt 1 is retried with the error). */
  'memory.summary-invalid': { attempt: number; error: string; scope: MemoryScope };
  'memory.episode-written': { id: string; scope: MemoryScope; unstructured: boolean; truncated: boolean };
  'memory.fact-written': { id: string; key: string; scope: MemoryScope; updated: boolean; truncated: boolean };
  /** What `retrieve` put in a prompt: the episodes by id (in the order said) and the tokens spent. */
  'memory.retrieved': {
    facts: number;
    episodes: number;
    episodeIds: string[];
    tokens: number;
    durationMs: number;
    vector: boolean;
  };
  /** The rewrite model failed or answered off schema: the question was split by rules instead. */
  'memory.rewrite-failed': { error: SerializedError };
  'memory.forgotten': { userId: string; facts: number; episodes: number };
}

export type MemoryEventName = keyof MemoryEventMap;

declare module '@agentrix/core' {
  interface AgentrixEventMap extends MemoryEventMap {}
}
