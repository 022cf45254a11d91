#include "coupon/protocol/scripts.h"

#include <QCryptographicHash>

namespace coupon {

LuaScript::LuaScript(QByteArray text)
    : source(std::move(text))
    , sha1(QCryptographicHash::hash(source, QCryptographicHash::Sha1).toHex())
{ }

RedisArgs evalshaCommand(const LuaScript &script, const RedisArgs &keys, const RedisArgs &args)
{
    RedisArgs call;
    call.reserve(3 + keys.size() + args.size());
    call.push_back("EVALSHA");
    call.push_back(script.sha1);
    call.push_back(QByteArray::number(qsizetype(keys.size())));
    call.insert(call.end(), keys.begin(), keys.end());
    call.insert(call.end(), args.begin(), args.end());
    return call;
}

} // namespace coupon

namespace coupon::scripts {

const LuaScript &apply()
{
    static const LuaScript script(R"lua(
local meta = redis.call('HMGET', KEYS[1], 'limit', 'state', 'starts', 'ends', 'instance')
local limit = tonumber(meta[1])
if not limit then return {'not_loaded', 0, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if meta[5] ~= ARGV[2] then return {'reconciling', 0, now} end
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
if redis.call('HGET', KEYS[1], 'instance') ~= ARGV[2] then return -1 end
local score = redis.call('ZSCORE', KEYS[4], ARGV[1])
if not score then return 0 end
if ARGV[3] and ARGV[3] ~= '' and tonumber(score) ~= tonumber(ARGV[3]) then return 0 end
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[1])
if tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then redis.call('DECR', KEYS[3]) end
redis.call('HINCRBY', KEYS[1], 'epoch', 1)
return 1
)lua");
    return script;
}

const LuaScript &loadMeta()
{
    static const LuaScript script(R"lua(
local t = redis.call('TIME')
local stamped = redis.call('HGET', KEYS[1], 'instance')
local instance = ARGV[5]
if ARGV[6] ~= 'stamp' and stamped ~= ARGV[5] then
  instance = stamped or 'none'
end
redis.call('HSET', KEYS[1], 'limit', ARGV[1], 'state', ARGV[2], 'starts', ARGV[3], 'ends', ARGV[4],
           'instance', instance, 'epoch', t[1] .. string.format('%06d', tonumber(t[2])))
redis.call('SETNX', KEYS[2], '0')
if instance == ARGV[5] then return 1 end
return 0
)lua");
    return script;
}

// Both memo scripts name a campaign's state by the same fingerprint: every
// meta field the apply script reads, the epoch and the counter.
static const char kFingerprintLua[] = R"lua(
local m = redis.call('HMGET', KEYS[1], 'limit', 'state', 'starts', 'ends', 'epoch', 'instance')
local c = redis.call('GET', KEYS[2])
local fingerprint = table.concat({m[1] or '-', m[2] or '-', m[3] or '-', m[4] or '-', m[5] or '-', c or '-',
                                  m[6] or '-'}, '|')
)lua";

const LuaScript &soldOutSnapshot()
{
    static const LuaScript script(QByteArray(kFingerprintLua) + R"lua(
local limit = tonumber(m[1])
if not limit or m[6] ~= ARGV[2] or m[2] ~= 'open' or tonumber(c or '0') < limit then return {fingerprint} end
if redis.call('SCARD', KEYS[3]) > tonumber(ARGV[1]) then return {fingerprint} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return {fingerprint, now, tonumber(m[3]) or 0, tonumber(m[4]) or 0, redis.call('SMEMBERS', KEYS[3])}
)lua");
    return script;
}

const LuaScript &fingerprint()
{
    static const LuaScript script(QByteArray(kFingerprintLua) + R"lua(
local t = redis.call('TIME')
return {fingerprint, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)}
)lua");
    return script;
}

const LuaScript &lease()
{
    static const LuaScript script(R"lua(
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
)lua");
    return script;
}

const LuaScript &unlease()
{
    static const LuaScript script(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");
    return script;
}

} // namespace coupon::scripts
