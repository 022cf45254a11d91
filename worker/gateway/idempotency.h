#pragma once

// Idempotency-Key support for POST .../applications: what is stored in Redis
// per key, and the reads and writes of those records.
//
// Records are per caller: the key names the user (the token's with
// gateway.auth = jwt), so one user's key never replays another's answer. A
// key is claimed with a pending record "P|<userId>|<claim id>" (the
// producer's delivery timeout + 10 s, at least 60 s, so a crashed gateway
// frees it) before the apply runs; only that claim's finish may replace or
// release it, so a finish that comes late never touches a later claim.
// Only answers that changed state
// are kept for replays, as a done record "D|<userId>|<status>|<body>": a 202
// for gateway.idempotency.ttl.s, a 503 outcome_unknown for at most 60 s
// (settlement decides it by then; a later retry runs again and learns how).
// Every other answer deletes the claim: running the apply again gives the
// same answer, and storing it would let a client fill Redis with 409s.
//
// A user holds at most gateway.idempotency.quota live records per
// campaign (an index zset, coupon:{c}:idemq:<user>, scored by expiry); a
// claim beyond it is answered 429 idempotency_quota. So records are bounded
// by users x quota, and in practice by the coupons given.

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

// The Redis keys of one user's record for one Idempotency-Key, hash-tagged
// with the campaign's other keys: coupon:{<campaign>}:idem:<user>:<key>,
// and the user's index of live records coupon:{<campaign>}:idemq:<user>.
struct IdempotencyKeys
{
    QByteArray record;
    QByteArray index;
    QByteArray key; // the header's value: the index member
};
IdempotencyKeys idempotencyKeys(const QString &campaign, qint64 userId, QByteArrayView key);

// One stored record, decoded.
struct IdempotencyRecord
{
    enum class State { Pending, Done };
    State state = State::Pending;
    QByteArray user;  // the user id as the request gave it, in decimal
    QByteArray claim; // Pending: the claim's own id
    int status = 0;   // Done: the answer's status
    QByteArray body;  // Done: the answer's body (may contain '|')

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

// Whether an answer is kept for replays, and for how long (0: not kept).
qint64 idempotencyKeepMs(const http::Response &answer, qint64 ttlMs);

// The records in Redis, on the apply service's connection.
class IdempotencyStore
{
public:
    // Loads its scripts on every (re)connect, so a replay never overtakes
    // the record it replays (a NOSCRIPT retry would let it).
    // `pendingMs`: how long a claim holds its key without an answer; at
    // least as long as an apply may take (the producer's delivery timeout).
    IdempotencyStore(AsyncRedis &redis, int ttlSeconds, int quota, qint64 pendingMs);

    struct Claim
    {
        enum class State { Claimed, Existing, OverQuota };
        State state = State::Claimed;
        std::optional<IdempotencyRecord> record; // Existing: nullopt for bytes no record of ours
        int retryAfterS = 0;                     // OverQuota: until the oldest record expires
    };
    // Claimed: run the apply and finish(). Existing: answer from the record.
    // OverQuota: answer 429.
    using ClaimCallback = std::function<void(Result<Claim>)>;
    // `pending` is the record that claims: IdempotencyRecord::pending().
    void claim(const IdempotencyKeys &keys, const IdempotencyRecord &pending, ClaimCallback callback);

    // Keeps the apply's final answer for replays when it changed state,
    // else releases the claim. Fire and forget: a lost write costs a
    // replay, never an answer.
    void finish(const IdempotencyKeys &keys, const IdempotencyRecord &pending, const http::Response &answer);

private:
    AsyncRedis &m_redis;
    qint64 m_ttlMs;
    QByteArray m_quota;
    qint64 m_pendingMs;
};

} // namespace gateway
} // namespace coupon
