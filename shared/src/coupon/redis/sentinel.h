#pragma once

#include "coupon/base/result.h"
#include "coupon/base/settings.h"

#include <QString>

namespace coupon {

// Where a Redis listens.
struct RedisEndpoint
{
    QString host;
    quint16 port = 0;
    QString text() const { return host + u':' + QString::number(port); }
    friend bool operator==(const RedisEndpoint &, const RedisEndpoint &) = default;
};

// The Redis a client should talk to: redis.host:redis.port, or, with
// redis.sentinels set, the master the Sentinels name for redis.master.name.
// hiredis has no Sentinel support; this is the one place that asks, for the
// synchronous and the asynchronous clients alike, following Redis' guide for
// Sentinel clients: the Sentinels are asked in order (each within
// redis.connect.timeout.ms, AUTH with redis.sentinel.user/password) and the
// first that names a master wins; the caller then checks that the node it
// reaches says role:master (a Sentinel in a minority may name an old one).
// Blocking: call it off any event loop (AsyncRedis runs it on a pool thread).
// Errors: "redis.unavailable" (no Sentinel answered, or none knows the
// master; the message says what each said), "redis.auth" (a Sentinel refused
// the password).
Result<RedisEndpoint> findRedisMaster(const RedisSettings &settings);

} // namespace coupon
