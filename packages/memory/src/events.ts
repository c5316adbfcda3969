import type { SerializedError } from '@agentrix/core';
import { EventEmitter } from 'eventemitter3';
import type { MemoryScope } from './scope.js';

/** Every event a memory emits. Listeners run synchronously: keep them cheap. */
export interface MemoryEventMap {
  /** The embedder failed: full-text search still works; the texts were stored without embeddings. */
  'memory.embedder-failed': { operation: 'write' | 'query'; texts: number; error: SerializedError };
  /** The summary model's JSON failed its schema (attempt 1 is retried with the error). */
  'memory.summary-invalid': { attempt: number; error: string; scope: MemoryScope };
  'memory.episode-written': { id: string; scope: MemoryScope; unstructured: boolean; truncated: boolean };
  'memory.fact-written': { id: string; key: string; scope: MemoryScope; updated: boolean; truncated: boolean };
  'memory.retrieved': { facts: number; episodes: number; durationMs: number; vector: boolean };
  /** A background write (after a turn) failed; the turn itself was not affected. */
  'memory.write-failed': { agentId?: string | undefined; error: SerializedError };
  'memory.forgotten': { userId: string; facts: number; episodes: number };
}

export type MemoryEventName = keyof MemoryEventMap;

type Listeners = { [K in MemoryEventName]: (event: MemoryEventMap[K]) => void };

/** The typed event emitter of a memory. */
export class MemoryEvents extends EventEmitter<Listeners> {}
