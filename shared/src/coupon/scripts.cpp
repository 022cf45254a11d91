#include "coupon/scripts.h"

namespace coupon::scripts {

const LuaScript &apply()
{
    static const LuaScript script(R"lua(
local meta = redis.call('HMGET', KEYS[1], 'limit', 'state', 'starts', 'ends')
local limit = tonumber(meta[1])
if not limit then return {'not_loaded', 0, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if meta[2] ~= 'open' then return {'closed', 0, now} end
local starts = tonumber(meta[3]) or 0
local ends = tonumber(meta[4]) or 0
if (starts > 0 and now < starts) or (ends > 0 and now >= ends) then return {'closed', 0, now} end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return {'duplicate', 0, now} end
local count = tonumber(redis.call('GET', KEYS[3]) or '0')
if count >= limit then return {'sold_out', count, now} end
redis.call('SADD', KEYS[2], ARGV[1])
count = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[4], now, ARGV[1])
return {'accepted', count, now}
)lua");
    return script;
}

const LuaScript &release()
{
    static const LuaScript script(R"lua(
if redis.call('ZREM', KEYS[3], ARGV[1]) == 0 then return 0 end
redis.call('SREM', KEYS[1], ARGV[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 1
)lua");
    return script;
}

const LuaScript &loadMeta()
{
    static const LuaScript script(R"lua(
redis.call('HSET', KEYS[1], 'limit', ARGV[1], 'state', ARGV[2], 'starts', ARGV[3], 'ends', ARGV[4])
redis.call('SETNX', KEYS[2], '0')
return 1
)lua");
    return script;
}

} // namespace coupon::scripts
