// Lua scripts of leases and inbox upkeep (not batched): extend, nack, give back, release, stats, dead-lettering one entry, disarm.
import { RedisScript } from './redis-client.js';
import { HELPERS } from './redis-scripts.js';

/**
 * EXTEND LEASE. KEYS: stream. ARGV: group, consumer, entry ids... Restarts the idle time of the
 * deliveries `consumer` still holds (`XCLAIM ... JUSTID` to itself counts no delivery). Reply: how many.
 */
export const extendLeaseScript = new RedisScript(
  'extend-lease',
  `
local stream, group, consumer = KEYS[1], ARGV[1], ARGV[2]
local held = 0
for i = 3, #ARGV do
  local ok, pending = pcall(redis.call, 'XPENDING', stream, group, ARGV[i], ARGV[i], 1, consumer)
  if ok and #pending == 1 then
    redis.call('XCLAIM', stream, group, consumer, 0, ARGV[i], 'JUSTID')
    held = held + 1
  end
end
return held
`,
);

/**
 * NACK. KEYS: stream, errors, dead, reclaim, armed. ARGV: group, entry id, error JSON or '', maxDeliveries, now,
 * deadMax, release consumer, release idle ms, wake channel.
 * Parks the delivery on the release consumer with a huge idle time and sets the inbox's reclaim
 * marker (so the next read claims it first) without counting a delivery, or dead-letters it when
 * it had maxDeliveries.
 * Reply: {0} unknown id, {1} released, {2, deadLetters} dead-lettered.
 */
export const nackScript = new RedisScript(
  'nack',
  `${HELPERS}
local stream, errors, dead = KEYS[1], KEYS[2], KEYS[3]
local group, id, errorJson, maxDeliveries = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local now, deadMax, releaser, idle, channel = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local ok, pending = pcall(redis.call, 'XPENDING', stream, group, id, id, 1)
if not ok or #pending == 0 then return {0} end
if errorJson ~= '' then redis.call('HSET', errors, id, errorJson) end
local count = tonumber(pending[1][4])
if count >= maxDeliveries then
  local deadOut = {}
  dead_letter(stream, errors, dead, group, id, count, now, deadMax, '', deadOut)
  return {2, deadOut}
end
redis.call('XCLAIM', stream, group, releaser, 0, id, 'IDLE', idle, 'JUSTID')
redis.call('SET', KEYS[4], '1')
redis.call('DEL', KEYS[5])
redis.call('PUBLISH', channel, '1')
return {1}
`,
);

/**
 * GIVE BACK (a read whose caller went away). KEYS: stream, reclaim, armed. ARGV: group, release consumer, idle,
 * wake channel, then pairs of entry id and the delivery count to restore.
 */
export const giveBackScript = new RedisScript(
  'give-back',
  `
local stream, group, releaser, idle, channel = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
for i = 5, #ARGV, 2 do
  redis.call('XCLAIM', stream, group, releaser, 0, ARGV[i], 'IDLE', idle, 'RETRYCOUNT', ARGV[i + 1], 'JUSTID')
end
redis.call('SET', KEYS[2], '1')
redis.call('DEL', KEYS[3])
redis.call('PUBLISH', channel, '1')
return 1
`,
);

/** RELEASE CONSUMER. KEYS: stream, reclaim, armed. ARGV: group, consumer, release consumer, idle, wake channel. Reply: count. */
export const releaseScript = new RedisScript(
  'release',
  `
local stream, group, consumer, releaser, idle, channel = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ok, pending = pcall(redis.call, 'XPENDING', stream, group, '-', '+', 1000000, consumer)
if not ok or #pending == 0 then return 0 end
for _, p in ipairs(pending) do
  redis.call('XCLAIM', stream, group, releaser, 0, p[1], 'IDLE', idle, 'JUSTID')
end
redis.call('SET', KEYS[2], '1')
redis.call('DEL', KEYS[3])
redis.call('PUBLISH', channel, '1')
return #pending
`,
);

/**
 * STATS. KEYS: stream, errors, dead. ARGV: group, leaseMs, maxDeliveries, now, deadMax.
 * Dead-letters spent expired deliveries first (as a read would). Reply: {unread, inFlight, dead, deadLetters}.
 *
 * Acked entries stay in the stream until a read trims them (see TRIM in the read script), so
 * unread is not XLEN minus pending: it is XLEN minus every entry up to the group's last delivered
 * id. The script trims first (what is older than the oldest delivery in flight is acked), so those
 * left are the deliveries in flight and the acked entries among them, counted 1,000 a page: the
 * cost follows the span of the deliveries in flight, not the backlog. (Redis 7's XINFO GROUPS
 * `lag` is not used: it is unknown after an XDEL near the last delivered entry, and 6.2 lacks it.)
 */
export const statsScript = new RedisScript(
  'stats',
  `${HELPERS}
local stream, errors, dead = KEYS[1], KEYS[2], KEYS[3]
local group, lease, maxDeliveries, now, deadMax = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local deadOut = {}
local available, pendingTotal, delivered = 0, 0, 0
local ok, expired = pcall(redis.call, 'XPENDING', stream, group, 'IDLE', lease, '-', '+', 1000000)
if ok then
  for _, p in ipairs(expired) do
    local count = tonumber(p[4])
    if count >= maxDeliveries then
      dead_letter(stream, errors, dead, group, p[1], count, now, deadMax, '', deadOut)
    else
      available = available + 1
    end
  end
  local summary = redis.call('XPENDING', stream, group)
  pendingTotal = summary[1]
  local last = '0-0'
  for _, info in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local fields = {}
    for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
    if fields['name'] == group then last = fields['last-delivered-id'] end
  end
  if pendingTotal > 0 then
    redis.call('XTRIM', stream, 'MINID', summary[2])
  elseif last ~= '0-0' then
    redis.call('XTRIM', stream, 'MINID', after(last))
  end
  local from = '-'
  while true do
    local page = redis.call('XRANGE', stream, from, last, 'COUNT', 1000)
    delivered = delivered + #page
    if #page < 1000 then break end
    from = '(' .. page[#page][1]
  end
end
local unread = redis.call('XLEN', stream) - delivered
if unread < 0 then unread = 0 end
return {unread + available, pendingTotal - available, redis.call('XLEN', dead), deadOut}
`,
);

/** DEAD LETTER one entry (malformed on the client side). KEYS: stream, errors, dead. ARGV: group, id, attempts, now, deadMax, error JSON. */
export const deadLetterScript = new RedisScript(
  'dead-letter',
  `${HELPERS}
local deadOut = {}
dead_letter(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], deadOut)
return deadOut
`,
);

/**
 * DISARM. KEYS: armed. ARGV: the hand-off arm value of a bus and consumer. When the inbox is still
 * armed for that hand-off (its reader went away), arms it for a plain wake-up instead, so the next
 * send wakes whoever else waits rather than handing its message to nobody.
 */
export const disarmScript = new RedisScript(
  'disarm',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], '1') return 1 end
return 0
`,
);
