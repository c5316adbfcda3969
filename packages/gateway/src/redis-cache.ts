import { AgentrixError } from '@agentrix/core';
import type { RedisClientLike } from '@agentrix/core/implement';
import type { CacheStore } from './cache-store.js';

export interface RedisCacheOptions {
  /** An ioredis client; left open by `close()`. */
  client: RedisClientLike;
  /** Default `agentrix:cache:`. Size is bounded by the server's `maxmemory` and eviction policy. */
  keyPrefix?: string;
}

/** A {@link CacheStore} in Redis (JSON values with a TTL), shared by several processes. */
export class RedisCache<T> implements CacheStore<T> {
  readonly #client: RedisClientLike;
  readonly #prefix: string;

  constructor(options: RedisCacheOptions) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix ?? 'agentrix:cache:';
  }

  async get(key: string): Promise<T | undefined> {
    let raw: string | null;
    try {
      raw = await this.#client.get(this.#prefix + key);
    } catch (error) {
      throw new AgentrixError('STORE_UNAVAILABLE', `The Redis cache failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  async set(key: string, value: T, ttlMs: number): Promise<void> {
    try {
      await this.#client.set(this.#prefix + key, JSON.stringify(value), 'PX', Math.max(1, Math.round(ttlMs)));
    } catch (error) {
      throw new AgentrixError('STORE_UNAVAILABLE', `The Redis cache failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {}
}
