// Lua scripts of groups: one set of names and a join-ordered sorted set per group, in one slot.
import { RedisScript } from './redis-client.js';

/** JOIN. KEYS: groups, members, sequence. ARGV: group, member. Reply: 0 when the group is missing. */
export const joinScript = new RedisScript(
  'join',
  `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
if not redis.call('ZSCORE', KEYS[2], ARGV[2]) then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[2])
end
return 1
`,
);

/** LEAVE. KEYS: groups, members. ARGV: group, member. Reply: 0 when the group is missing. */
export const leaveScript = new RedisScript(
  'leave',
  `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
`,
);

/** MEMBERS in join order. KEYS: groups, members. ARGV: group. Reply: nil when the group is missing. */
export const membersScript = new RedisScript(
  'members',
  `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return false end
return redis.call('ZRANGE', KEYS[2], 0, -1)
`,
);

/** DELETE GROUP. KEYS: groups, members. ARGV: group. Reply: 0 when the group is missing. */
export const deleteGroupScript = new RedisScript(
  'delete-group',
  `
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('DEL', KEYS[2])
return 1
`,
);
