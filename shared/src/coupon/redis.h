#pragma once

#include "coupon/handles.h"
#include "coupon/result.h"
#include "coupon/settings.h"

#include <QByteArray>
#include <QList>

#include <memory>
#include <mutex>
#include <vector>

namespace coupon {

// A Lua script with its SHA1, computed locally so EVALSHA works without a
// round trip; the text is sent (SCRIPT LOAD) only when Redis says NOSCRIPT.
struct LuaScript
{
    explicit LuaScript(QByteArray source);
    QByteArray source;
    QByteArray sha1; // lower-case hex
};

// The keys of one campaign, hash-tagged so they share a Redis Cluster slot.
struct CampaignKeys
{
    explicit CampaignKeys(const QString &campaign);
    QByteArray meta;    // hash: limit, state, starts, ends (ms epoch, 0 = none)
    QByteArray users;   // set of user ids holding a reservation or coupon
    QByteArray count;   // string: reservations made (the ticket counter)
    QByteArray pending; // sorted set: user id -> reservation time (ms)
};

using RedisArgs = std::vector<QByteArray>;

// One synchronous hiredis connection with connect and command timeouts. A
// broken connection is dropped and re-established on the next call; a call
// that fails is not retried here (the caller knows whether it may be).
// Not thread-safe: one thread at a time (see RedisPool).
class RedisConnection
{
public:
    explicit RedisConnection(RedisSettings settings);

    Status connect();
    bool isConnected() const { return m_context != nullptr; }

    // Errors: redis.unavailable, redis.protocol, redis.reply (Redis' text).
    Result<RedisReplyHandle> command(const RedisArgs &args);
    // Sends all commands, then reads all replies: one round trip. An error
    // reply is returned as a reply, not as an error.
    Result<std::vector<RedisReplyHandle>> pipeline(const std::vector<RedisArgs> &commands);
    // EVALSHA, loading the script on NOSCRIPT and trying once more.
    Result<RedisReplyHandle> eval(const LuaScript &script, const RedisArgs &keys, const RedisArgs &args);

private:
    Status ensureConnected();
    Error dropWith(const QString &what);

    RedisSettings m_settings;
    RedisContextHandle m_context;
};

// A fixed set of connections, each behind its own mutex; a thread starts at
// a slot picked from its id and takes the first free one, so there is no
// single lock all callers queue on.
class RedisPool
{
public:
    RedisPool(const RedisSettings &settings, int size);

    class Lease
    {
    public:
        RedisConnection *operator->() const { return m_connection; }
        RedisConnection &operator*() const { return *m_connection; }

    private:
        friend class RedisPool;
        Lease(std::unique_lock<std::mutex> lock, RedisConnection *connection)
            : m_lock(std::move(lock)), m_connection(connection) {}
        std::unique_lock<std::mutex> m_lock;
        RedisConnection *m_connection;
    };

    Lease acquire();
    int size() const { return int(m_slots.size()); }

private:
    struct Slot
    {
        std::mutex mutex;
        std::unique_ptr<RedisConnection> connection;
    };
    std::vector<std::unique_ptr<Slot>> m_slots;
};

// Helpers for reading replies.
QByteArray replyString(const redisReply *reply);
std::optional<qint64> replyInteger(const redisReply *reply); // integer, or a numeric string

} // namespace coupon
