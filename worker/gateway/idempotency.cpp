#include "gateway/idempotency.h"

#include "coupon/protocol/scripts.h"
#include "coupon/redis/async_redis.h"
#include "coupon/redis/redis.h"

#include <QRandomGenerator>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace coupon::gateway {

bool isValidIdempotencyKey(QByteArrayView key)
{
    if (key.isEmpty() || key.size() > 128)
        return false;
    for (const char c : key) {
        if (c < 0x21 || c > 0x7e)
            return false;
    }
    return true;
}

IdempotencyKeys idempotencyKeys(const QString &campaign, qint64 userId, QByteArrayView key)
{
    const QByteArray prefix = "coupon:{" + campaign.toLatin1() + "}:idem";
    const QByteArray user = QByteArray::number(userId);
    return {prefix + ':' + user + ':' + key, prefix + "q:" + user, key.toByteArray()};
}

qint64 idempotencyKeepMs(const http::Response &answer, qint64 ttlMs)
{
    if (answer.status == 202)
        return ttlMs;
    if (answer.status == 503 && answer.body.contains("\"outcome_unknown\""))
        return std::min<qint64>(ttlMs, 60000);
    return 0;
}

namespace {

// KEYS: record, index. ARGV: pending record, quota, pending ms, member, index ms.
// {1, record} when the key is on record; {2, ms until a slot frees} over
// the quota; {0} when claimed.
const LuaScript &claimScript()
{
    static const LuaScript script(R"lua(
local v = redis.call('GET', KEYS[1])
if v then return {1, v} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {2, tonumber(oldest[2]) - now}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[4])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
return {0}
)lua");
    return script;
}

// KEYS: record, index. ARGV: done record ('' releases the claim), keep ms,
// member, index ms, the claiming record. -1: the key is no longer this
// claim's (it expired, and maybe another claimed it): nothing is touched.
const LuaScript &finishScript()
{
    static const LuaScript script(R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[5] then return -1 end
if ARGV[1] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[3])
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[3])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
return 1
)lua");
    return script;
}

} // namespace

QByteArray IdempotencyRecord::encode() const
{
    if (state == State::Pending)
        return "P|" + user + '|' + claim;
    return "D|" + user + '|' + QByteArray::number(status) + '|' + body;
}

std::optional<IdempotencyRecord> IdempotencyRecord::decode(QByteArrayView stored)
{
    // "P|user" or "D|user|status|body": split at the first separators only,
    // since the body may itself contain '|'.
    if (stored.size() < 2 || stored[1] != '|' || (stored[0] != 'P' && stored[0] != 'D'))
        return std::nullopt;
    IdempotencyRecord record;
    const QByteArrayView rest = stored.sliced(2);
    if (stored[0] == 'P') {
        record.state = State::Pending;
        const qsizetype bar = rest.indexOf('|');
        record.user = (bar < 0 ? rest : rest.first(bar)).toByteArray();
        record.claim = bar < 0 ? QByteArray() : rest.sliced(bar + 1).toByteArray();
        return record;
    }
    const qsizetype userEnd = rest.indexOf('|');
    const qsizetype statusEnd = userEnd < 0 ? -1 : rest.indexOf('|', userEnd + 1);
    if (statusEnd < 0)
        return std::nullopt;
    bool ok = false;
    record.state = State::Done;
    record.user = rest.first(userEnd).toByteArray();
    record.status = rest.sliced(userEnd + 1, statusEnd - userEnd - 1).toInt(&ok);
    if (!ok)
        return std::nullopt;
    record.body = rest.sliced(statusEnd + 1).toByteArray();
    return record;
}

IdempotencyRecord IdempotencyRecord::pending(qint64 userId)
{
    IdempotencyRecord record;
    record.user = QByteArray::number(userId);
    record.claim = QByteArray::number(QRandomGenerator::global()->generate64(), 36);
    return record;
}

IdempotencyRecord IdempotencyRecord::done(qint64 userId, const http::Response &answer)
{
    IdempotencyRecord record;
    record.state = State::Done;
    record.user = QByteArray::number(userId);
    record.status = answer.status;
    record.body = answer.body;
    return record;
}

http::Response answerFromRecord(const IdempotencyRecord &record, qint64 userId)
{
    if (record.user != QByteArray::number(userId))
        return http::Response::error(422, u"idempotency_key_reused"_s,
                                     u"this Idempotency-Key was used for another request"_s);
    if (record.state == IdempotencyRecord::State::Pending) {
        http::Response r = http::Response::error(409, u"request_in_progress"_s,
                                                 u"a request with this Idempotency-Key is still running"_s);
        r.headers.append(std::pair<QByteArray, QByteArray>("Retry-After", "1"));
        return r;
    }
    http::Response replay;
    replay.status = record.status;
    replay.body = record.body;
    replay.headers.append(std::pair<QByteArray, QByteArray>("Idempotency-Replayed", "true"));
    if (record.status == 503) // as the first answer said
        replay.headers.append(std::pair<QByteArray, QByteArray>("Retry-After", "1"));
    return replay;
}

IdempotencyStore::IdempotencyStore(AsyncRedis &redis, int ttlSeconds, int quota, qint64 pendingMs)
    : m_redis(redis)
    , m_ttlMs(qint64(ttlSeconds) * 1000)
    , m_quota(QByteArray::number(quota))
    , m_pendingMs(pendingMs)
{
    auto load = [connection = &redis] {
        for (const LuaScript *script : {&claimScript(), &finishScript()})
            connection->command({"SCRIPT", "LOAD", script->source}, [](const Result<const redisReply *> &) {});
    };
    QObject::connect(&redis, &AsyncRedis::connectedChanged, &redis, [load](bool up) {
        if (up)
            load();
    });
    if (redis.isConnected())
        load();
}

void IdempotencyStore::claim(const IdempotencyKeys &keys, const IdempotencyRecord &pending, ClaimCallback callback)
{
    const QByteArray indexMs = QByteArray::number(m_ttlMs + m_pendingMs);
    m_redis.eval(claimScript(), {keys.record, keys.index},
                 {pending.encode(), m_quota, QByteArray::number(m_pendingMs), keys.key, indexMs},
                 [callback = std::move(callback)](const Result<const redisReply *> &reply) {
                     if (!reply)
                         return callback(reply.error());
                     const redisReply *r = *reply;
                     if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 || r->element[0]->type != REDIS_REPLY_INTEGER)
                         return callback(Error(Errc::RedisProtocol, u"unexpected reply to the idempotency claim"_s));
                     Claim claim;
                     const long long state = r->element[0]->integer;
                     if (state == 1 && r->elements == 2) {
                         claim.state = Claim::State::Existing;
                         claim.record = IdempotencyRecord::decode(replyString(r->element[1]));
                     } else if (state == 2 && r->elements == 2) {
                         claim.state = Claim::State::OverQuota;
                         claim.retryAfterS = int(std::max<long long>(1, (r->element[1]->integer + 999) / 1000));
                     }
                     callback(claim);
                 });
}

void IdempotencyStore::finish(const IdempotencyKeys &keys, const IdempotencyRecord &pending,
                              const http::Response &answer)
{
    const qint64 keepMs = idempotencyKeepMs(answer, m_ttlMs);
    const QByteArray record = keepMs > 0 ? IdempotencyRecord::done(pending.user.toLongLong(), answer).encode()
                                         : QByteArray();
    m_redis.eval(finishScript(), {keys.record, keys.index},
                 {record, QByteArray::number(std::max<qint64>(keepMs, 1)), keys.key,
                  QByteArray::number(m_ttlMs + m_pendingMs), pending.encode()},
                 [](const Result<const redisReply *> &) {});
}

} // namespace coupon::gateway
