#include "gateway/idempotency.h"

#include "coupon/redis/async_redis.h"
#include "coupon/redis/redis.h"

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

QByteArray idempotencyRedisKey(const QString &campaign, QByteArrayView key)
{
    return "coupon:{" + campaign.toLatin1() + "}:idem:" + key;
}

QByteArray IdempotencyRecord::encode() const
{
    if (state == State::Pending)
        return "P|" + user;
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
        record.user = rest.toByteArray();
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
    return replay;
}

void IdempotencyStore::claim(const QByteArray &redisKey, qint64 userId, ClaimCallback callback)
{
    // SET NX takes a free key; a key seen before is read back.
    m_redis.command({"SET", redisKey, IdempotencyRecord::pending(userId).encode(), "NX", "PX", "60000"},
                    [this, redisKey, callback = std::move(callback)](const Result<const redisReply *> &claimed) {
                        if (!claimed)
                            return callback(claimed.error());
                        if ((*claimed)->type == REDIS_REPLY_STATUS)
                            return callback(std::optional<IdempotencyRecord>());
                        readBack(redisKey, callback);
                    });
}

void IdempotencyStore::readBack(const QByteArray &redisKey, const ClaimCallback &callback)
{
    m_redis.command({"GET", redisKey}, [callback](const Result<const redisReply *> &got) {
        if (!got)
            return callback(got.error());
        callback(IdempotencyRecord::decode(replyString(*got)));
    });
}

void IdempotencyStore::finish(const QByteArray &redisKey, qint64 userId, const http::Response &answer)
{
    if (answer.status == 503)
        m_redis.command({"DEL", redisKey}, [](const Result<const redisReply *> &) {});
    else
        m_redis.command({"SET", redisKey, IdempotencyRecord::done(userId, answer).encode(), "EX", m_ttl},
                        [](const Result<const redisReply *> &) {});
}

} // namespace coupon::gateway
