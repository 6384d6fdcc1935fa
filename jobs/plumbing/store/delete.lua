-- Remove an image record and every index entry, and announce it.
-- KEYS[1] image hash  KEYS[2] events stream  KEYS[3] account created_at index  KEYS[4] account name index
-- KEYS[5] deadlines zset  KEYS[6] expiries zset  KEYS[7] counts by status (hash)
-- ARGV[1] image id   ARGV[2] account   ARGV[3] stream maxlen   ARGV[4] name index member
local status = redis.call('HGET', KEYS[1], 'status')
local existed = redis.call('DEL', KEYS[1])
if existed == 1 and status then redis.call('HINCRBY', KEYS[7], status, -1) end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[4])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
if existed == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*',
    'id', ARGV[1], 'account', ARGV[2], 'status', 'deleted', 'version', '0')
end
return existed
