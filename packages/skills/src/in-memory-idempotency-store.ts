import {
  AgentrixError,
  type Clock,
  type IdempotencyClaim,
  type IdempotencyRecord,
  type IdempotencyStore,
  type SerializedError,
  systemClock,
} from '@agentrix/core';

export interface InMemoryIdempotencyStoreOptions {
  /** Default: the system clock. */
  clock?: Clock;
  /** Completed records older than this are forgotten (checked lazily). Default 24 h. */
  ttlMs?: number;
}

/**
 * The {@link IdempotencyStore} port in memory: for one process and for tests. A durable one
 * (Postgres) lives in `@agentrix/store` and implements the same port.
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  readonly #records = new Map<string, IdempotencyRecord>();
  readonly #clock: Clock;
  readonly #ttlMs: number;

  constructor(options: InMemoryIdempotencyStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#ttlMs = options.ttlMs ?? 86_400_000;
  }

  async claim(key: string, options: { leaseMs: number }): Promise<IdempotencyClaim> {
    return this.claimSync(key, options.leaseMs);
  }

  /** The synchronous body of {@link claim} (the executor's fast path). */
  claimSync(key: string, leaseMs: number): IdempotencyClaim {
    const now = this.#clock.now();
    const record = this.#live(key, now);
    if (record && (record.status === 'completed' || (record.leaseUntil ?? 0) > now)) {
      return { claimed: false, record: { ...record } };
    }
    this.#records.set(key, {
      key,
      status: 'pending',
      createdAt: record?.createdAt ?? now,
      updatedAt: now,
      leaseUntil: now + leaseMs,
    });
    return { claimed: true };
  }

  async complete(key: string, result: unknown): Promise<void> {
    const now = this.#clock.now();
    const record = this.#records.get(key);
    if (record?.status === 'completed') {
      throw new AgentrixError('INVALID_ARGUMENT', `Idempotency key "${key}" is already completed`, {
        details: { key },
      });
    }
    this.#records.set(key, { key, status: 'completed', result, createdAt: record?.createdAt ?? now, updatedAt: now });
  }

  async release(key: string, _error?: SerializedError): Promise<void> {
    const record = this.#records.get(key);
    if (record?.status === 'pending') this.#records.delete(key);
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const record = this.#live(key, this.#clock.now());
    return record ? { ...record } : undefined;
  }

  /** Records held (completed and pending), for tests and metrics. */
  get size(): number {
    return this.#records.size;
  }

  clear(): void {
    this.#records.clear();
  }

  #live(key: string, now: number): IdempotencyRecord | undefined {
    const record = this.#records.get(key);
    if (record?.status === 'completed' && now - record.updatedAt > this.#ttlMs) {
      this.#records.delete(key);
      return undefined;
    }
    return record;
  }
}
