import { AgentrixError } from '@agentrix/core';
import type {
  BudgetCounter,
  BudgetReserveLine,
  BudgetReserveResult,
  BudgetSettleLine,
  BudgetStore,
} from './budget-store.js';
import type { RedisClientLike } from './redis-client.js';

// KEYS: counters (hashes with `spent` and `reserved`). ARGV per line: limit, amount, expiresAt (0 = never).
// Checks every line, then adds to every line: all or nothing, atomically (one script).
const RESERVE = `
local n = #KEYS
for i = 1, n do
  local limit = tonumber(ARGV[(i - 1) * 3 + 1])
  local amount = tonumber(ARGV[(i - 1) * 3 + 2])
  local v = redis.call('HMGET', KEYS[i], 'spent', 'reserved')
  local spent = tonumber(v[1]) or 0
  local reserved = tonumber(v[2]) or 0
  if spent + reserved + amount > limit then return {0, i, tostring(spent), tostring(reserved)} end
end
local out = {1}
for i = 1, n do
  local amount = ARGV[(i - 1) * 3 + 2]
  local expires = tonumber(ARGV[(i - 1) * 3 + 3])
  local reserved = redis.call('HINCRBY', KEYS[i], 'reserved', amount)
  local spent = tonumber(redis.call('HGET', KEYS[i], 'spent')) or 0
  if expires > 0 then redis.call('PEXPIREAT', KEYS[i], expires) end
  out[#out + 1] = tostring(spent)
  out[#out + 1] = tostring(reserved)
end
return out
`;

// ARGV per line: reserved, actual, expiresAt (0 = never).
const SETTLE = `
for i = 1, #KEYS do
  local reserved = tonumber(redis.call('HINCRBY', KEYS[i], 'reserved', -tonumber(ARGV[(i - 1) * 3 + 1])))
  if reserved < 0 then redis.call('HSET', KEYS[i], 'reserved', 0) end
  redis.call('HINCRBY', KEYS[i], 'spent', ARGV[(i - 1) * 3 + 2])
  local expires = tonumber(ARGV[(i - 1) * 3 + 3])
  if expires > 0 then redis.call('PEXPIREAT', KEYS[i], expires) end
end
return 1
`;

const READ = `
local out = {}
for i = 1, #KEYS do
  local v = redis.call('HMGET', KEYS[i], 'spent', 'reserved')
  out[#out + 1] = v[1] or '0'
  out[#out + 1] = v[2] or '0'
end
return out
`;

export interface RedisBudgetStoreOptions {
  /** An ioredis client; left open by `close()`. */
  client: RedisClientLike;
  /**
   * Prefix of every key. Default `agentrix:{budget}:` — the braces are a Redis Cluster hash tag,
   * so all counters of one reservation live on one slot, as a multi-key script needs.
   */
  keyPrefix?: string;
}

/**
 * Budget counters in Redis, shared by every process that points at the same server: reserve,
 * settle and read are Lua scripts, so a reservation is checked and taken atomically.
 */
export class RedisBudgetStore implements BudgetStore {
  readonly #client: RedisClientLike;
  readonly #prefix: string;
  #closed = false;

  constructor(options: RedisBudgetStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix ?? 'agentrix:{budget}:';
  }

  async reserve(lines: readonly BudgetReserveLine[]): Promise<BudgetReserveResult> {
    this.#open();
    if (lines.length === 0) return { ok: true, counters: [] };
    const args: (string | number)[] = lines.map((line) => this.#prefix + line.key);
    for (const line of lines) args.push(line.limit, line.amount, line.expiresAt ?? 0);
    const result = (await this.#run(RESERVE, lines.length, args)) as (number | string)[];
    if (Number(result[0]) === 0) {
      const line = lines[Number(result[1]) - 1]!;
      return {
        ok: false,
        key: line.key,
        counter: { key: line.key, spent: Number(result[2]), reserved: Number(result[3]) },
      };
    }
    return {
      ok: true,
      counters: lines.map((line, index) => ({
        key: line.key,
        spent: Number(result[1 + index * 2]),
        reserved: Number(result[2 + index * 2]),
      })),
    };
  }

  async settle(lines: readonly BudgetSettleLine[]): Promise<void> {
    this.#open();
    if (lines.length === 0) return;
    const args: (string | number)[] = lines.map((line) => this.#prefix + line.key);
    for (const line of lines) args.push(line.reserved, line.actual, line.expiresAt ?? 0);
    await this.#run(SETTLE, lines.length, args);
  }

  async read(keys: readonly string[]): Promise<BudgetCounter[]> {
    this.#open();
    if (keys.length === 0) return [];
    const result = (await this.#run(
      READ,
      keys.length,
      keys.map((key) => this.#prefix + key),
    )) as string[];
    return keys.map((key, index) => ({
      key,
      spent: Number(result[index * 2]),
      reserved: Number(result[index * 2 + 1]),
    }));
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  async #run(script: string, keys: number, args: (string | number)[]): Promise<unknown> {
    try {
      return await this.#client.eval(script, keys, ...args);
    } catch (error) {
      throw new AgentrixError('STORE_UNAVAILABLE', `The Redis budget store failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  #open(): void {
    if (this.#closed) throw new AgentrixError('CLOSED', 'This RedisBudgetStore is closed');
  }
}
