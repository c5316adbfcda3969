import {
  AgentrixError,
  type BudgetCounter,
  type BudgetReservation,
  type BudgetReserveResult,
  type BudgetSettlement,
  type BudgetSettleResult,
  type BudgetStore,
  type ReleasedReservation,
} from '@agentrix/core';
import type { RedisClientLike } from '@agentrix/core/implement';
import { duplicateReservation } from './budget-store.js';

// Key layout under the prefix: `<key>` a counter (hash: spent, reserved), `reservation:<id>` a
// reservation (hash: holder, expiresAt, lines as JSON with amounts as strings), `reservations`
// the ids by expiry (sorted set). Every key shares the prefix's hash tag, so on a Redis Cluster
// they live on one slot and the scripts below may touch the counters a reservation names.

// Gives back what a reservation holds (its stored lines JSON). ARGV[1] of every script is the prefix.
const RELEASE_LINES = `
local function release_lines(stored)
  for _, line in ipairs(cjson.decode(stored)) do
    local key = ARGV[1] .. line.key
    if redis.call('EXISTS', key) == 1 then
      local left = redis.call('HINCRBY', key, 'reserved', '-' .. line.amount)
      if left < 0 then redis.call('HSET', key, 'reserved', 0) end
    end
  end
end
`;

// KEYS: index, reservation, counters. ARGV: prefix, id, holder, expiresAt, lines JSON, then per
// line: limit, amount, counter expiresAt (0 = never). Checks every line, then adds to every line
// and records the reservation: all or nothing, atomically (one script).
const RESERVE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return {-1} end
local n = #KEYS - 2
for i = 1, n do
  local limit = tonumber(ARGV[5 + (i - 1) * 3 + 1])
  local amount = tonumber(ARGV[5 + (i - 1) * 3 + 2])
  local v = redis.call('HMGET', KEYS[i + 2], 'spent', 'reserved')
  local spent = tonumber(v[1]) or 0
  local reserved = tonumber(v[2]) or 0
  if spent + reserved + amount > limit then return {0, i, tostring(spent), tostring(reserved)} end
end
local out = {1}
for i = 1, n do
  local amount = ARGV[5 + (i - 1) * 3 + 2]
  local expires = tonumber(ARGV[5 + (i - 1) * 3 + 3])
  local reserved = redis.call('HINCRBY', KEYS[i + 2], 'reserved', amount)
  local spent = tonumber(redis.call('HGET', KEYS[i + 2], 'spent')) or 0
  if expires > 0 then redis.call('PEXPIREAT', KEYS[i + 2], expires) end
  out[#out + 1] = tostring(spent)
  out[#out + 1] = tostring(reserved)
end
redis.call('HSET', KEYS[2], 'holder', ARGV[3], 'expiresAt', ARGV[4], 'lines', ARGV[5])
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
return out
`;

// KEYS: index, reservation, counters. ARGV: prefix, id, then per line: actual, expiresAt (0 = never).
// Releases the reservation if it is still held (once: it is deleted), then adds what was spent.
const SETTLE = `${RELEASE_LINES}
local held = 0
local stored = redis.call('HGET', KEYS[2], 'lines')
if stored then
  held = 1
  release_lines(stored)
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[1], ARGV[2])
end
for i = 3, #KEYS do
  local actual = ARGV[2 + (i - 3) * 2 + 1]
  local expires = tonumber(ARGV[2 + (i - 3) * 2 + 2])
  if tonumber(actual) > 0 then
    redis.call('HINCRBY', KEYS[i], 'spent', actual)
    if expires > 0 then redis.call('PEXPIREAT', KEYS[i], expires) end
  end
end
return held
`;

// KEYS: index. ARGV: prefix, 'expired' or 'holder', now or the holder. Releases the matching
// reservations; returns id, holder, expiresAt and lines of each.
const RELEASE = `${RELEASE_LINES}
local ids
if ARGV[2] == 'expired' then
  ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
else
  ids = redis.call('ZRANGE', KEYS[1], 0, -1)
end
local out = {}
for _, id in ipairs(ids) do
  local key = ARGV[1] .. 'reservation:' .. id
  local v = redis.call('HMGET', key, 'holder', 'expiresAt', 'lines')
  if not v[3] then
    redis.call('ZREM', KEYS[1], id)
  elseif ARGV[2] == 'expired' or v[1] == ARGV[3] then
    release_lines(v[3])
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[1], id)
    out[#out + 1] = id
    out[#out + 1] = v[1]
    out[#out + 1] = v[2]
    out[#out + 1] = v[3]
  end
end
return out
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
 * settle, release and read are Lua scripts, so a reservation is checked and taken atomically and
 * released exactly once (by its settle, a sweep of expired reservations, or its holder's restart).
 */
export class RedisBudgetStore implements BudgetStore {
  readonly #client: RedisClientLike;
  readonly #prefix: string;
  readonly #index: string;
  #closed = false;

  constructor(options: RedisBudgetStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix ?? 'agentrix:{budget}:';
    this.#index = `${this.#prefix}reservations`;
  }

  async reserve(reservation: BudgetReservation): Promise<BudgetReserveResult> {
    this.#open();
    const { lines } = reservation;
    if (lines.length === 0) return { ok: true, counters: [] };
    const stored = JSON.stringify(lines.map((line) => ({ key: line.key, amount: String(line.amount) })));
    const args: (string | number)[] = [this.#index, this.#reservationKey(reservation.id)];
    for (const line of lines) args.push(this.#prefix + line.key);
    args.push(this.#prefix, reservation.id, reservation.holder, reservation.expiresAt, stored);
    for (const line of lines) args.push(line.limit, line.amount, line.expiresAt ?? 0);
    const result = (await this.#run(RESERVE, lines.length + 2, args)) as (number | string)[];
    if (Number(result[0]) === -1) throw duplicateReservation(reservation.id);
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

  async settle(settlement: BudgetSettlement): Promise<BudgetSettleResult> {
    this.#open();
    const args: (string | number)[] = [this.#index, this.#reservationKey(settlement.id)];
    for (const line of settlement.lines) args.push(this.#prefix + line.key);
    args.push(this.#prefix, settlement.id);
    for (const line of settlement.lines) args.push(line.actual, line.expiresAt ?? 0);
    const held = await this.#run(SETTLE, settlement.lines.length + 2, args);
    return { held: Number(held) === 1 };
  }

  async releaseExpired(now: number): Promise<ReleasedReservation[]> {
    this.#open();
    return this.#release('expired', String(now));
  }

  async releaseHolder(holder: string): Promise<ReleasedReservation[]> {
    this.#open();
    return this.#release('holder', holder);
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

  async #release(mode: 'expired' | 'holder', value: string): Promise<ReleasedReservation[]> {
    const result = (await this.#run(RELEASE, 1, [this.#index, this.#prefix, mode, value])) as string[];
    const released: ReleasedReservation[] = [];
    for (let index = 0; index < result.length; index += 4) {
      const lines = JSON.parse(result[index + 3]!) as { key: string; amount: string }[];
      released.push({
        id: result[index]!,
        holder: result[index + 1]!,
        expiresAt: Number(result[index + 2]),
        lines: lines.map((line) => ({ key: line.key, amount: Number(line.amount) })),
      });
    }
    return released;
  }

  #reservationKey(id: string): string {
    return `${this.#prefix}reservation:${id}`;
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
