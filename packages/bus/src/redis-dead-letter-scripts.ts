// Lua scripts that move dead letters back to their inbox.
import { RedisScript } from './redis-client.js';

/** Moving one dead-letter stream entry back to the inbox stream: its envelope, or a malformed entry's raw fields. */
const REDRIVE_ENTRY = `
local function redrive_entry(dead, stream, entry)
  local fields = entry[2]
  local envelope, raw
  for i = 1, #fields, 2 do
    if fields[i] == 'envelope' then envelope = fields[i + 1] elseif fields[i] == 'raw' then raw = fields[i + 1] end
  end
  local moved = 0
  if envelope then
    redis.call('XADD', stream, '*', 'envelope', envelope)
    moved = 1
  elseif raw then
    local original = cjson.decode(raw)
    if type(original) == 'table' and #original >= 2 then
      redis.call('XADD', stream, '*', unpack(original))
    end
    moved = 1
  end
  redis.call('XDEL', dead, entry[1])
  return moved
end
`;

/** REDRIVE the oldest. KEYS: dead, stream. ARGV: limit, wake channel. Reply: how many moved back. */
export const redriveScript = new RedisScript(
  'redrive',
  `${REDRIVE_ENTRY}
local dead, stream, limit, channel = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local moved = 0
for _, entry in ipairs(redis.call('XRANGE', dead, '-', '+', 'COUNT', limit)) do
  moved = moved + redrive_entry(dead, stream, entry)
end
if moved > 0 then redis.call('PUBLISH', channel, '1') end
return moved
`,
);

/**
 * REDRIVE these dead-letter entries. KEYS: dead, stream. ARGV: wake channel, then dead-letter
 * entry ids. An entry already gone (redriven or discarded meanwhile) is skipped, so it counts
 * once whoever else redrives it. Reply: how many moved back.
 */
export const redriveEntriesScript = new RedisScript(
  'redrive-entries',
  `${REDRIVE_ENTRY}
local dead, stream, channel = KEYS[1], KEYS[2], ARGV[1]
local moved = 0
for i = 2, #ARGV do
  local entry = redis.call('XRANGE', dead, ARGV[i], ARGV[i])[1]
  if entry then moved = moved + redrive_entry(dead, stream, entry) end
end
if moved > 0 then redis.call('PUBLISH', channel, '1') end
return moved
`,
);
