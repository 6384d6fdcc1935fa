-- Take one dead letter out of a queue's dead-letter set, atomically, so two operators
-- replaying at once never enqueue it twice.
-- KEYS[1] darkroom:{queue}.XQ (zset)   KEYS[2] darkroom:{queue}.XQ.msgs (hash)   ARGV[1] message id
-- Returns the message body, or false when someone else took it first.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return false end
local data = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return data
