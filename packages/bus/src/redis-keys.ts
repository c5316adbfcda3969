import { keySlot } from './redis-slot.js';

/**
 * Key layout of the Redis bus. Every key of one inbox shares the hash tag `{inbox}`, so the
 * scripts that touch several of them stay on one slot.
 *
 * ```
 * {prefix}:{namespace}:inbox:{<inbox>}:stream      stream: unread and in-flight messages (field `envelope`), acked ones until trimmed
 * {prefix}:{namespace}:inbox:{<inbox>}:errors      hash: entry id -> last nack error (JSON)
 * {prefix}:{namespace}:inbox:{<inbox>}:dead        stream: dead letters
 * {prefix}:{namespace}:inbox:{<inbox>}:seen        hash: `i:<id>` / `e:<externalId>` -> envelope JSON
 * {prefix}:{namespace}:inbox:{<inbox>}:seen-ids    list: explicit ids in the order seen (window)
 * {prefix}:{namespace}:inbox:{<inbox>}:seen-ext    list: external ids in the order seen (window)
 * {prefix}:{namespace}:inbox:{<inbox>}:armed       string: set by a read that drained the inbox; the next send publishes a wake-up
 * {prefix}:{namespace}:inbox:{<inbox>}:reclaim     string: set when deliveries were parked (nack, give-back, release); reads claim them first
 * {prefix}:{namespace}:wake:<inbox>                pub/sub channel: "something to read"
 * {prefix}:{namespace}:{groups}                    set: group names
 * {prefix}:{namespace}:{groups}:members:<group>    sorted set: members, scored by join order
 * {prefix}:{namespace}:{groups}:sequence           counter for join order
 * ```
 */
export interface InboxKeys {
  readonly stream: string;
  readonly errors: string;
  readonly dead: string;
  readonly seen: string;
  readonly seenIds: string;
  readonly seenExternal: string;
  readonly armed: string;
  readonly reclaim: string;
  readonly wakeChannel: string;
  /** The Redis Cluster slot of every key above but the channel. */
  readonly slot: number;
}

/** Inboxes whose key names are kept built; past that the cache starts over. */
const KEY_CACHE_SIZE = 50_000;

export class RedisKeys {
  readonly #base: string;
  readonly groups: string;
  readonly groupSequence: string;
  readonly wakePrefix: string;
  /** Prefix of every inbox key, up to the hash tag: `{prefix}:{namespace}:inbox:` (the batch scripts build the rest). */
  readonly inboxPrefix: string;
  readonly #cache = new Map<string, InboxKeys>();

  constructor(keyPrefix: string, namespace: string) {
    this.#base = `${keyPrefix}:${namespace}`;
    this.groups = `${this.#base}:{groups}`;
    this.groupSequence = `${this.#base}:{groups}:sequence`;
    this.wakePrefix = `${this.#base}:wake:`;
    this.inboxPrefix = `${this.#base}:inbox:`;
  }

  /** The keys of one inbox (cached: reads, sends and acks ask for them on every call). */
  inbox(inbox: string): InboxKeys {
    let keys = this.#cache.get(inbox);
    if (keys === undefined) {
      keys = this.#build(inbox);
      if (this.#cache.size >= KEY_CACHE_SIZE) this.#cache.clear();
      this.#cache.set(inbox, keys);
    }
    return keys;
  }

  #build(inbox: string): InboxKeys {
    const base = `${this.inboxPrefix}{${inbox}}`;
    return {
      stream: `${base}:stream`,
      errors: `${base}:errors`,
      dead: `${base}:dead`,
      seen: `${base}:seen`,
      seenIds: `${base}:seen-ids`,
      seenExternal: `${base}:seen-ext`,
      armed: `${base}:armed`,
      reclaim: `${base}:reclaim`,
      wakeChannel: `${this.wakePrefix}${inbox}`,
      slot: keySlot(`${base}:stream`),
    };
  }

  group(group: string): string {
    return `${this.groups}:members:${group}`;
  }
}
