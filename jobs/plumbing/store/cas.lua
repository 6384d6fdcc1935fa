-- Version-guarded write of an image record (compare-and-set), atomically with its indexes
-- and the transition event.
-- KEYS[1] image hash  KEYS[2] events stream  KEYS[3] account created_at index  KEYS[4] account name index
-- KEYS[5] deadlines zset (reaper)  KEYS[6] expiries zset (expiry sweep)  KEYS[7] counts by status (hash)
-- ARGV[1] expected version ("0": the record must not exist yet)   ARGV[2] new version
-- ARGV[3] status   ARGV[4] account   ARGV[5] image id   ARGV[6] created_at ms   ARGV[7] stream maxlen
-- ARGV[8] name index member   ARGV[9] image JSON   ARGV[10] internal state JSON
-- ARGV[11] deadline epoch s ("" = none)   ARGV[12] expires_at epoch s ("" = none)
-- Returns 1 when written, 0 when the stored version differs (the caller re-reads and retries).
local current = redis.call('HGET', KEYS[1], 'version')
if ARGV[1] == '0' then
  if current then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
local old_status = redis.call('HGET', KEYS[1], 'status')
if old_status ~= ARGV[3] then
  if old_status then redis.call('HINCRBY', KEYS[7], old_status, -1) end
  redis.call('HINCRBY', KEYS[7], ARGV[3], 1)
end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'status', ARGV[3], 'account', ARGV[4],
  'image', ARGV[9], 'state', ARGV[10])
if ARGV[1] == '0' then
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
  redis.call('ZADD', KEYS[4], 0, ARGV[8])
end
if ARGV[11] == '' then redis.call('ZREM', KEYS[5], ARGV[5]) else redis.call('ZADD', KEYS[5], ARGV[11], ARGV[5]) end
if ARGV[12] == '' then redis.call('ZREM', KEYS[6], ARGV[5]) else redis.call('ZADD', KEYS[6], ARGV[12], ARGV[5]) end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*',
  'id', ARGV[5], 'account', ARGV[4], 'status', ARGV[3], 'version', ARGV[2])
return 1
