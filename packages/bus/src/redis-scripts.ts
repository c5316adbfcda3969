import { RedisScript } from './redis-client.js';
import { NO_ENVELOPE_ERROR } from './redis-entries.js';

/** A Lua string literal holding `text` (long brackets with enough `=` never to close early). */
function luaString(text: string): string {
  let level = '';
  while (text.includes(`]${level}]`)) level += '=';
  return `[${level}[${text}]${level}]`;
}

/**
 * The Lua scripts of the Redis bus. Each one runs atomically on the server, so a read, an ack, a
 * nack or a move to dead letter is never half done, whoever else reads the same inbox.
 *
 * Inbox scripts take KEYS = stream, errors, dead (and more where noted). Replies use `''` for
 * "none" (a Lua `nil` would cut an array short).
 */

/** Shared helpers: finding a field of a stream entry, the next entry id, and moving an entry to dead letter. */
export const HELPERS = `
-- The smallest entry id after id (the seq part + 1; ids made by XADD * have small seqs).
local function after(id)
  local dash = string.find(id, '-', 1, true)
  return string.sub(id, 1, dash) .. string.format('%.0f', tonumber(string.sub(id, dash + 1)) + 1)
end

local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return nil
end

-- Moves entry id of the stream to the dead-letter stream, with its last error (or errorOverride),
-- acks and deletes it. Appends {payloadKind, payload, attempts, error} to deadOut.
local function dead_letter(stream, errors, dead, group, id, attempts, now, deadMax, errorOverride, deadOut)
  local entry = redis.call('XRANGE', stream, id, id)
  local err = errorOverride
  if err == '' then err = redis.call('HGET', errors, id) or '' end
  if entry[1] then
    local fields = entry[1][2]
    local envelope = field(fields, 'envelope')
    local kind, payload = 'envelope', envelope
    if not envelope then kind, payload = 'raw', cjson.encode(fields) end
    redis.call('XADD', dead, 'MAXLEN', '~', deadMax, '*', kind, payload, 'attempts', attempts, 'error', err, 'deadAt', now, 'entry', id)
    deadOut[#deadOut + 1] = {kind, payload, attempts, err}
  end
  redis.call('XACK', stream, group, id)
  redis.call('XDEL', stream, id)
  redis.call('HDEL', errors, id)
end
`;

/**
 * A per-item error marker in the replies of the batch scripts: one inbox's failure (a wrong key
 * type, say) never fails the other inboxes of the batch.
 */
const BATCH_ITEM = `
local function item_error(res)
  if type(res) == 'table' and res.err then return res.err end
  return tostring(res)
end
`;

/**
 * Key names inside the batch scripts: the scripts get the inbox key prefix once (ARGV[1], e.g.
 * `agentrix:default:inbox:`) and each item's inbox name, and build the inbox's keys
 * (`<prefix>{<inbox>}:stream`, ...) themselves, so a batch carries each inbox name once instead
 * of up to five full key names per item. On one Redis server KEYS is empty; on a cluster the bus
 * calls a batch script once per slot and declares there every key it touches (so the call is
 * routed to the slot's primary and refused, then redirected, while the slot is moving).
 */
const INBOX_KEYS = `
local inboxPrefix = ARGV[1]
-- One concatenation per key name (a Lua string made from parts is hashed and interned once).
local function inbox_key(inbox, name) return inboxPrefix .. '{' .. inbox .. '}:' .. name end
`;

/**
 * SEND, for a batch of messages (any inboxes; on a cluster, of one slot). KEYS: none, or on a
 * cluster every key the script touches (stream, seen, seen-ids, seen-ext, armed per inbox). ARGV: inbox key prefix, wake channel
 * prefix, dedupe window, consumer group, then per message: inbox, envelope JSON; or, for a message
 * with an explicit id or an external id to de-duplicate by, '' (never an inbox name), inbox,
 * envelope JSON, explicit id or '', external id or ''. Reply, one per message: 1 when appended,
 * {0, originalEnvelopeJson} for a duplicate, {-1, error} when Redis refused it; or the number 1
 * alone when every message was appended (the usual case: no table of ones to build and parse).
 *
 * Two arguments per message without ids instead of four: Redis pays about 1,300 instructions per
 * script argument (parsing it, then making a Lua string of it for ARGV and collecting that string
 * later; bench/bus/script-costs.ts).
 *
 * A wake-up is published only when the inbox is armed (a read found it drained and armed it,
 * see READ): readers asleep on an inbox always read it once after arming it, so a send into an
 * inbox that nobody has drained since the last wake-up has nobody to wake. When the arming read
 * asked for a hand-off (`<bus token>\n<consumer>`), the script reads the oldest unread entry for
 * that consumer and publishes it in the wake-up itself (`h<token>\n<consumer>\n<entry id>\n<envelope>`):
 * the blocked reader gets the message without another round trip. Every other subscriber takes
 * the hand-off as a plain wake-up.
 */
export const sendBatchScript = new RedisScript(
  'send-batch',
  `${INBOX_KEYS}${BATCH_ITEM}
local wakePrefix, window, group = ARGV[2], tonumber(ARGV[3]), ARGV[4]
-- Publishes the wake-up of an inbox that was armed (armed: the value its arming read set).
local function wake_armed(stream, inbox, armed)
  local channel = wakePrefix .. inbox
  local split = string.find(armed, '\\n', 1, true)
  if split then
    local consumer = string.sub(armed, split + 1)
    local ok, reply = pcall(redis.call, 'XREADGROUP', 'GROUP', group, consumer, 'COUNT', '1', 'STREAMS', stream, '>')
    if ok and reply and reply[1] and reply[1][2][1] then
      local entry = reply[1][2][1]
      local fields, envelope = entry[2], ''
      for i = 1, #fields, 2 do
        if fields[i] == 'envelope' then envelope = fields[i + 1] break end
      end
      redis.call('PUBLISH', channel, 'h' .. armed .. '\\n' .. entry[1] .. '\\n' .. envelope)
      return
    end
  end
  redis.call('PUBLISH', channel, '1')
end
local function wake(stream, inbox)
  -- GETDEL (Redis 6.2): one command instead of GET + DEL on every wake-up.
  local armed = redis.call('GETDEL', inbox_key(inbox, 'armed'))
  if armed then wake_armed(stream, inbox, armed) end
end
local function remember(seen, list, key, envelope)
  redis.call('HSET', seen, key, envelope)
  redis.call('RPUSH', list, key)
  if redis.call('LLEN', list) > window then
    redis.call('HDEL', seen, redis.call('LPOP', list))
  end
end
local function send_one(inbox, envelope, id, external)
  local dedupe = window > 0 and (id ~= '' or external ~= '')
  if dedupe then
    local seen = inbox_key(inbox, 'seen')
    if id ~= '' then
      local found = redis.call('HGET', seen, 'i:' .. id)
      if found then return {0, found} end
    end
    if external ~= '' then
      local found = redis.call('HGET', seen, 'e:' .. external)
      if found then return {0, found} end
    end
  end
  local stream = inbox_key(inbox, 'stream')
  redis.call('XADD', stream, '*', 'envelope', envelope)
  if dedupe then
    local seen = inbox_key(inbox, 'seen')
    if id ~= '' then remember(seen, inbox_key(inbox, 'seen-ids'), 'i:' .. id, envelope) end
    if external ~= '' then remember(seen, inbox_key(inbox, 'seen-ext'), 'e:' .. external, envelope) end
  end
  wake(stream, inbox)
  return 1
end
local out, a, n, all = {}, 5, #ARGV, true
while a <= n do
  local inbox, res = ARGV[a], 1
  if inbox == '' then
    local ok
    ok, res = pcall(send_one, ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4])
    if not ok then res = {-1, item_error(res)} end
    a = a + 5
  else
    -- The short form in line: no function call or pcall of its own (redis.pcall returns an
    -- error as a table instead of raising it), key names made in place.
    local stream = inboxPrefix .. '{' .. inbox .. '}:stream'
    local added = redis.pcall('XADD', stream, '*', 'envelope', ARGV[a + 1])
    if type(added) == 'table' then
      res = {-1, item_error(added)}
    else
      local armed = redis.pcall('GETDEL', inboxPrefix .. '{' .. inbox .. '}:armed')
      if type(armed) == 'table' then
        res = {-1, item_error(armed)}
      elseif armed then
        local ok, failure = pcall(wake_armed, stream, inbox, armed)
        if not ok then res = {-1, item_error(failure)} end
      end
    end
    a = a + 2
  end
  if res ~= 1 then all = false end
  out[#out + 1] = res
end
-- Every message appended (the usual case): one number, no table of ones to build and parse.
if all then return 1 end
return out
`,
);

/** Read flags (a bit field, per inbox). */
export const READ_WANT_HINT = 1;
export const READ_CHECK_LEASES = 2;
/** When the read takes nothing, arm the inbox for a hand-off to this bus and consumer (see SEND). */
export const READ_HANDOFF = 4;
/**
 * The inbox may well be empty (the reader's last message came in a hand-off, so the inbox held
 * only that one): look with XLEN before reading. A hint only: a stream that is not empty is read.
 */
export const READ_MAYBE_EMPTY = 8;
/** Trim the acked entries at the head of the stream (see TRIM in the read script). */
export const READ_TRIM = 16;
/**
 * A plain `XREADGROUP` for the reader's new messages ran just before this script (sent in the
 * same tick, on the same connection): ack, then claim parked deliveries only when the `reclaim`
 * marker is set (the bus puts them before what the plain read took), read nothing new, arm nothing.
 */
export const READ_TAKEN = 32;

/**
 * ACK AND READ, for a batch of inboxes: `ack` and `read` both go through it, and an ack may fetch
 * the reader's next message in the same call. KEYS: none, or on a cluster every key the script
 * touches (stream, errors, dead, reclaim, armed per inbox). ARGV: inbox key prefix, group, leaseMs,
 * maxDeliveries, now, deadMax, bus token, the consumer and the max of the `t` items below (or ''
 * and ''), then per inbox: inbox, flags (READ_WANT_HINT | READ_CHECK_LEASES | READ_HANDOFF |
 * READ_MAYBE_EMPTY | READ_TRIM | READ_TAKEN), consumer, max, the number of entry ids to ack, those
 * ids. Two common items take three arguments instead of six (Redis pays about 1,300 instructions
 * per script argument, and the item's own pcall, numbers and reply table as much again;
 * bench/bus/script-costs.ts): inbox, `a`, entry id: an ack of one id that reads nothing (max 0,
 * flags 0); inbox, `t`, entry id: the ack of a reader loop's message whose next ones a plain
 * XREADGROUP took (READ_TAKEN, the consumer and max named above). Neither asks for a trim. When
 * the inbox has no marker that concerns the item (`errors` for `a`, `errors` or `reclaim` for
 * `t`: the usual case) it is an EXISTS and an XACK, and its reply the number 1; otherwise it runs
 * as the long form would.
 *
 * Per inbox: first acks the ids given (unknown ones are ignored; with READ_MAYBE_EMPTY also
 * deletes them, so XLEN can tell an empty inbox); with max 0 that is all. Acked entries otherwise
 * stay in the stream until a trim: with READ_TRIM, and whenever a read finds the inbox drained,
 * the script deletes every entry older than the oldest delivery in flight (all of them acked:
 * unread entries come after every delivered one). Then, when asked to check leases, or when the inbox's `reclaim` marker is set (a nack,
 * give-back or release parked deliveries), first claims deliveries idle for leaseMs or more
 * (expired leases, and parked deliveries, which are idle for years) in entry order,
 * dead-lettering those that had maxDeliveries; then reads new entries (none when READ_MAYBE_EMPTY
 * and the stream is empty). Creates the consumer group (from the stream's start) when it is missing. Fewer than max taken means the inbox is drained:
 * it is armed (the next send publishes a wake-up; with READ_HANDOFF and nothing taken, the next
 * send hands its message to `consumer` of this bus in the wake-up).
 * Reply, one flat array per inbox (no nested tables to build and parse on the hot path):
 * {1, hintMs, more, deadCount, <4 per dead letter>, <4 per delivery>} or {-1, error} (or 1 for a
 * short item that only acked, meaning {1, -1, 1, 0}). A dead
 * letter is kind, payload, attempts, error; a delivery is entryId, attempt, envelopeJson,
 * lastErrorJson or ''. more is 1 when something readable may be left (max were taken), 0 when
 * the inbox was drained; hintMs (only when drained and READ_WANT_HINT) is how long until the
 * earliest in-flight lease expires, -1 when nothing is in flight.
 */
export const readBatchScript = new RedisScript(
  'ack-read-batch',
  `${INBOX_KEYS}${HELPERS}${BATCH_ITEM}
local group, lease, maxDeliveries = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local now, deadMax, token = ARGV[5], ARGV[6], ARGV[7]
local malformed = ${luaString(NO_ENVELOPE_ERROR)}
-- The reply of every ack that reads nothing (one table for all of them: replies are only read).
local ACKED = {1, -1, 1, 0}

-- Appends a delivery to a read's reply (no closure made per read).
local function take(reply, id, attempt, envelope, err)
  local n = #reply
  reply[n + 1], reply[n + 2], reply[n + 3], reply[n + 4] = id, attempt, envelope, err
end

-- TRIM: deletes the acked entries at the head of the stream. Every entry older than the oldest
-- delivery in flight was delivered and is not pending, so it is acked; with nothing in flight, so
-- is every entry up to a delivered one (delivered), and every entry when the inbox is drained.
-- oldest: the oldest in-flight entry id, false when none, nil when not looked up yet. Acking with
-- XACK alone and trimming every READ_TRIM acks instead of an XDEL per ack: XDEL walks the
-- stream node to the entry (up to 100 entries), 13% of Redis's instructions per message. A
-- drained inbox with nothing in flight has no entry left, so no error either (see READ_MAYBE_EMPTY).
local function trim(stream, errors, hasErrors, oldest, drained, delivered)
  if oldest == nil then
    local first = redis.call('XPENDING', stream, group, '-', '+', '1')[1]
    oldest = first and first[1] or false
  end
  if oldest then
    redis.call('XTRIM', stream, 'MINID', oldest)
  elseif drained then
    redis.call('XTRIM', stream, 'MAXLEN', '0')
    if hasErrors then redis.call('DEL', errors) end
  elseif delivered then
    redis.call('XTRIM', stream, 'MINID', after(delivered))
  end
end

-- count is a string (a Lua number argument is formatted with %.17g by redis.call: 0.2 µs).
local function read_new(stream, consumer, count)
  local ok, reply = pcall(redis.call, 'XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, '>')
  if ok then return reply end
  redis.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
  return redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, '>')
end

-- One inbox's part; its acked ids are ARGV[first] .. ARGV[first + acks - 1]. maxText: max as given.
local function read_one(inbox, consumer, maxText, flags, first, acks)
  local max = tonumber(maxText)
  local last = first + acks - 1
  local stream, errors, reclaim = inbox_key(inbox, 'stream'), inbox_key(inbox, 'errors'), inbox_key(inbox, 'reclaim')
  local hasErrors, hasReclaim = false, false
  -- The last id acked here (delivered, so a bound for TRIM), when a trim is due.
  local acked = nil
  -- An empty stream has nothing unread, parked or in flight: no marker to look at, no XREADGROUP
  -- that finds nothing, no XPENDING for the hint. Asked for by the ack of a message handed off in
  -- a wake-up (READ_MAYBE_EMPTY: the inbox usually held only that one), which acks and deletes
  -- its ids and looks at XLEN before EXISTS: 1,000 agents 9.6 -> 8.6 commands per message
  -- (bench/bus/command-counts.ts). An error of an id acked here is left behind only if the
  -- handed-off delivery was nacked and then acked: the next drained read of the inbox deletes it.
  local empty = false
  if flags % 16 >= 8 and max > 0 then
    for i = first, last do
      local ok, n = pcall(redis.call, 'XACK', stream, group, ARGV[i])
      if ok and n == 1 then redis.call('XDEL', stream, ARGV[i]) end
    end
    empty = redis.call('XLEN', stream) == 0
    if not empty and redis.call('EXISTS', errors, reclaim) > 0 then
      hasErrors = redis.call('EXISTS', errors) == 1
      hasReclaim = redis.call('EXISTS', reclaim) == 1
      if hasErrors and acks > 0 then redis.call('HDEL', errors, unpack(ARGV, first, last)) end
    end
  else
    -- Which of the two markers exist, in one call (usually neither: nothing was nacked lately).
    -- Key names and calls cost about 0.25 µs each in a script, about as much as EXISTS itself.
    if redis.call('EXISTS', errors, reclaim) > 0 then
      hasErrors = redis.call('EXISTS', errors) == 1
      hasReclaim = redis.call('EXISTS', reclaim) == 1
    end
    local trimDue = flags % 32 >= 16
    for i = first, last do
      local ok, n = pcall(redis.call, 'XACK', stream, group, ARGV[i])
      if ok and n == 1 then
        if trimDue then acked = ARGV[i] end
        if hasErrors then redis.call('HDEL', errors, ARGV[i]) end
      end
    end
  end
  if max == 0 then
    if acked then trim(stream, errors, false, nil, false, acked) end
    return ACKED
  end
  -- reply: the header (hint, more and dead count set at the end), then 4 values per delivery
  -- (dead letters, rare, are put in front at the end); taken: how many deliveries.
  -- deadOut: made on the first dead letter. Tables and closures made per read cost Redis more than
  -- they look: building the reply in place instead of in a second table, with no closure per read,
  -- cut Redis's instructions per message by 4.5% (bench/bus/redis-instructions.ts).
  local reply, deadOut, taken = {1, -1, 0, 0}, nil, 0
  local rounds = 0

  local plainTaken = flags >= 32
  if not empty and (flags % 4 >= 2 or hasReclaim) then
    local dead = inbox_key(inbox, 'dead')
    local ok, pending = pcall(redis.call, 'XPENDING', stream, group, 'IDLE', lease, '-', '+', max)
    if not ok then
      redis.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
      pending = {}
    end
    while #pending > 0 and taken < max do
      rounds = rounds + 1
      local last
      for _, p in ipairs(pending) do
        last = p[1]
        if taken >= max then break end
        local id, count = p[1], tonumber(p[4])
        if count >= maxDeliveries then
          deadOut = deadOut or {}
          dead_letter(stream, errors, dead, group, id, count, now, deadMax, '', deadOut)
        else
          local claimed = redis.call('XCLAIM', stream, group, consumer, 0, id)
          if claimed[1] then
            local envelope = field(claimed[1][2], 'envelope')
            if envelope then
              take(reply, id, count + 1, envelope, redis.call('HGET', errors, id) or '')
              taken = taken + 1
            else
              deadOut = deadOut or {}
              dead_letter(stream, errors, dead, group, id, count + 1, now, deadMax, malformed, deadOut)
            end
          else
            redis.call('XACK', stream, group, id)
          end
        end
      end
      if taken >= max or rounds >= 10 then break end
      pending = redis.call('XPENDING', stream, group, 'IDLE', lease, '(' .. last, '+', max - taken)
    end
    -- Everything claimable was claimed: parked deliveries no longer need a look on every read.
    -- (Only when the marker is set: a DEL after every periodic lease check was 0.05 commands per
    -- message with 1,000 agents, bench/bus/command-counts.ts.)
    if hasReclaim and taken < max and rounds < 10 then redis.call('DEL', reclaim) end
  end

  while taken < max and not empty and not plainTaken do
    local count = maxText
    if taken > 0 then count = tostring(max - taken) end
    local read = read_new(stream, consumer, count)
    if not read or not read[1] or #read[1][2] == 0 then break end
    for _, entry in ipairs(read[1][2]) do
      local envelope = field(entry[2], 'envelope')
      if envelope then
        take(reply, entry[1], 1, envelope, '')
        taken = taken + 1
      else
        deadOut = deadOut or {}
        dead_letter(stream, errors, inbox_key(inbox, 'dead'), group, entry[1], 1, now, deadMax, malformed, deadOut)
      end
    end
  end

  -- Drained when fewer than max were taken (the reclaim and XREADGROUP both ran dry). With max
  -- taken the inbox may hold more: the next read finds out (and arms it then).
  local more = 0
  if rounds >= 10 or taken >= max or plainTaken then more = 1 end
  if more == 0 then
    if taken == 0 and flags % 8 >= 4 then
      redis.call('SET', inbox_key(inbox, 'armed'), token .. '\\n' .. consumer)
    else
      redis.call('SET', inbox_key(inbox, 'armed'), '1')
    end
  end

  local hint, oldest = -1, nil
  if rounds >= 10 then
    hint = 0
  elseif more == 0 and flags % 2 == 1 and not empty then
    local inFlight = redis.call('XPENDING', stream, group, '-', '+', 100)
    oldest = inFlight[1] and inFlight[1][1] or false
    for _, p in ipairs(inFlight) do
      local left = lease - tonumber(p[3])
      if left < 1 then left = 1 end
      if hint < 0 or left < hint then hint = left end
    end
    if #inFlight >= 100 and (hint < 0 or hint > lease) then hint = lease end
  end
  if (more == 0 and not empty) or acked then trim(stream, errors, hasErrors, oldest, more == 0, acked) end
  reply[2], reply[3] = hint, more
  if deadOut == nil then return reply end
  local withDead = {1, hint, more, #deadOut}
  for _, letter in ipairs(deadOut) do
    for i = 1, 4 do withDead[#withDead + 1] = letter[i] end
  end
  for i = 5, #reply do withDead[#withDead + 1] = reply[i] end
  return withDead
end

local fetcher, fetchMax = ARGV[8], ARGV[9]
local replies, a, n = {}, 10, #ARGV
while a <= n do
  local inbox, kind = ARGV[a], ARGV[a + 1]
  local ok, res
  if kind == 'a' then
    -- No pcall, no numbers, no reply table of its own: EXISTS does not fail, XACK runs in
    -- redis.pcall (an error comes back as a table instead of raising); key names made in place.
    -- An ack that reads nothing has only errors to drop: no reclaim marker to look at.
    local base = inboxPrefix .. '{' .. inbox .. '}:'
    if redis.call('EXISTS', base .. 'errors') == 0 then
      redis.pcall('XACK', base .. 'stream', group, ARGV[a + 2])
      ok, res = true, 1
    else
      ok, res = pcall(read_one, inbox, '', '0', 0, a + 2, 1)
    end
    a = a + 3
  elseif kind == 't' then
    local base = inboxPrefix .. '{' .. inbox .. '}:'
    if redis.call('EXISTS', base .. 'errors', base .. 'reclaim') == 0 then
      redis.pcall('XACK', base .. 'stream', group, ARGV[a + 2])
      ok, res = true, 1
    else
      ok, res = pcall(read_one, inbox, fetcher, fetchMax, ${READ_TAKEN}, a + 2, 1)
    end
    a = a + 3
  else
    local acks = tonumber(ARGV[a + 4])
    ok, res = pcall(read_one, inbox, ARGV[a + 2], ARGV[a + 3], tonumber(kind), a + 5, acks)
    a = a + 5 + acks
  end
  if ok then replies[#replies + 1] = res else replies[#replies + 1] = {-1, item_error(res)} end
end
return replies
`,
);
