import type { SerializedError } from './errors.js';

/** The stored outcome of one idempotent tool call. */
export interface IdempotencyRecord {
  key: string;
  /** `pending` while a call holds the key; `completed` once its result is stored. */
  status: 'pending' | 'completed';
  /** The JSON result of a completed call. */
  result?: unknown;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  /** While pending: when the claim expires and another caller may take the key. */
  leaseUntil?: number;
}

export type IdempotencyClaim = { claimed: true } | { claimed: false; record: IdempotencyRecord };

/**
 * Tool-call idempotency records: the same key never acts twice. A caller claims the key
 * before acting, completes it with the result, or releases it when the call failed (so a
 * retry may act). A claim whose lease expired (its holder crashed) may be taken again.
 */
export interface IdempotencyStore {
  /** Takes the key, or returns the record that holds it (completed, or pending with a live lease). */
  claim(key: string, options: { leaseMs: number }): Promise<IdempotencyClaim>;
  complete(key: string, result: unknown): Promise<void>;
  /** Drops a pending claim (the call failed); `error` is for logs. */
  release(key: string, error?: SerializedError): Promise<void>;
  get(key: string): Promise<IdempotencyRecord | undefined>;
}
