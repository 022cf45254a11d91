#pragma once

// Idempotency-Key support for POST .../applications: what is stored in Redis
// per key, and the reads and writes of those records.
//
// A key is claimed with a pending record "P|<userId>" (60 s, so a crashed
// gateway frees it) before the apply runs; the apply's final answer replaces
// it with a done record "D|<userId>|<status>|<body>" for
// gateway.idempotency.ttl.s. A 503 deletes the claim instead: nothing was
// decided, so a retry with the same key runs the apply again.

#include "coupon/base/result.h"
#include "coupon/http/server.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <functional>
#include <optional>

namespace coupon {

class AsyncRedis;

namespace gateway {

// The Idempotency-Key header's value: 1 to 128 visible ASCII characters.
bool isValidIdempotencyKey(QByteArrayView key);

// The Redis key of a campaign's idempotency record, hash-tagged with the
// campaign's other keys: coupon:{<campaign>}:idem:<key>.
QByteArray idempotencyRedisKey(const QString &campaign, QByteArrayView key);

// One stored record, decoded.
struct IdempotencyRecord
{
    enum class State { Pending, Done };
    State state = State::Pending;
    QByteArray user; // the user id as the request gave it, in decimal
    int status = 0;  // Done: the answer's status
    QByteArray body; // Done: the answer's body (may contain '|')

    QByteArray encode() const;
    // nullopt for bytes that are no record of ours.
    static std::optional<IdempotencyRecord> decode(QByteArrayView stored);

    static IdempotencyRecord pending(qint64 userId);
    static IdempotencyRecord done(qint64 userId, const http::Response &answer);
};

// What a request with a key already on record gets: 422 when the key was used
// for another user, 409 + Retry-After while the first request runs, and the
// first answer (Idempotency-Replayed: true) once it has one.
http::Response answerFromRecord(const IdempotencyRecord &record, qint64 userId);

// The records in Redis, on the apply service's connection.
class IdempotencyStore
{
public:
    IdempotencyStore(AsyncRedis &redis, int ttlSeconds)
        : m_redis(redis)
        , m_ttl(QByteArray::number(ttlSeconds))
    { }

    // The record already there, or nullopt when the key is now claimed for
    // this user (also when the record expired between the claim and the read,
    // or holds bytes that are no record of ours): then run the apply and
    // finish().
    using ClaimCallback = std::function<void(Result<std::optional<IdempotencyRecord>>)>;
    void claim(const QByteArray &redisKey, qint64 userId, ClaimCallback callback);

    // Stores the apply's final answer for replays; a 503 releases the claim.
    // Fire and forget: a lost write costs a replay, never an answer.
    void finish(const QByteArray &redisKey, qint64 userId, const http::Response &answer);

private:
    void readBack(const QByteArray &redisKey, const ClaimCallback &callback);

    AsyncRedis &m_redis;
    QByteArray m_ttl; // seconds, as the SET argument
};

} // namespace gateway
} // namespace coupon
