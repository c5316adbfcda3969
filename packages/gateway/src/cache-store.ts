/**
 * The cache port shared by the response cache and the embedding cache: values by key with a
 * time to live. Backends: {@link InMemoryLruCache} here, `RedisCache` for several processes.
 */
export interface CacheStore<T> {
  get(key: string): Promise<T | undefined>;
  set(key: string, value: T, ttlMs: number): Promise<void>;
  /** Idempotent. Leaves connections passed in open. */
  close(): Promise<void>;
}

export interface InMemoryLruCacheOptions {
  /** Entries kept; the least recently used goes first. Default 1,000. */
  maxEntries?: number;
  /** Default `Date.now`. */
  now?: () => number;
}

/** An LRU map with per-entry expiry. `getSync` is there for the bench and hot paths. */
export class InMemoryLruCache<T> implements CacheStore<T> {
  readonly #entries = new Map<string, { value: T; expiresAt: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: InMemoryLruCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 1_000;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<T | undefined> {
    return this.getSync(key);
  }

  getSync(key: string): T | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    // Move to the most recently used end.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  async set(key: string, value: T, ttlMs: number): Promise<void> {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }
}
