import type { SerializedError } from '@agentrix/core';
import type { MemoryScope } from './scope.js';

/** The events of a {@link Distiller}, on its memory's stream; they join core's `AgentrixEventMap`. */
export interface DistillEventMap {
  /** A session was distilled: its facts and summary are stored and the conversation's cursor moved past it. */
  'memory.distilled': {
    scope: MemoryScope;
    /** Turns (episodes) of the session. */
    episodes: number;
    facts: number;
    summary: boolean;
    durationMs: number;
  };
  /**
   * A session was not distilled. `budget` (the gateway refused the call) and `error` (the model
   * failed) are retried on the next pass; `invalid` (the answer failed its schema twice) is
   * skipped for good: the cursor moves on, the episodes stay searchable.
   */
  'memory.distill-skipped': {
    scope: MemoryScope;
    reason: 'budget' | 'error' | 'invalid';
    episodes: number;
    retry: boolean;
    error: SerializedError;
  };
}

declare module '@agentrix/core' {
  interface AgentrixEventMap extends DistillEventMap {}
}
