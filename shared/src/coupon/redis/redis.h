#pragma once

#include "coupon/base/result.h"
#include "coupon/base/settings.h"
#include "coupon/protocol/keys.h"
#include "coupon/protocol/reply.h"
#include "coupon/protocol/scripts.h"
#include "coupon/redis/redis_handles.h"

#include <QByteArray>
#include <QList>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace coupon {

// The argv/argvlen arrays hiredis' *Argv functions take, viewing `args`.
struct RedisArgv
{
    explicit RedisArgv(const RedisArgs &args);
    int count() const { return int(pointers.size()); }
    std::vector<const char *> pointers;
    std::vector<size_t> lengths;
};

// One synchronous hiredis connection with connect and command timeouts. A
// broken connection is dropped and re-established on the next call; a call
// that fails is not retried here (the caller knows whether it may be).
// Not thread-safe: one thread at a time (see RedisPipeline).
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

// Commands from many threads, pipelined: each of `lanes` connections has its
// own queue and thread; a caller's thread picks its lane, and the lane sends
// everything queued in one write and reads the replies in one go. No lock is
// shared by all callers; a reply comes back on the lane's thread.
class RedisPipeline
{
public:
    using Callback = std::function<void(Result<RedisReplyHandle>)>;

    RedisPipeline(const RedisSettings &settings, int lanes);
    ~RedisPipeline(); // answers what is queued, then stops the lanes

    void submit(RedisArgs args, Callback callback);
    // EVALSHA; a NOSCRIPT reply loads the script and runs it once more.
    void eval(const LuaScript &script, const RedisArgs &keys, const RedisArgs &args, Callback callback);

private:
    struct Item
    {
        RedisArgs args;
        const LuaScript *script = nullptr; // set for EVALSHA
        RedisArgs keys, scriptArgs;
        Callback callback;
    };
    struct Lane
    {
        explicit Lane(const RedisSettings &settings)
            : connection(settings)
        { }
        std::mutex mutex;
        std::condition_variable wake;
        std::vector<Item> queue;
        bool stopping = false;
        RedisConnection connection;
        std::thread thread;
    };
    void run(Lane &lane);
    void enqueue(Item item);

    std::vector<std::unique_ptr<Lane>> m_lanes;
};

// The reply as plain values, for the protocol (protocol/reply.h).
Reply toReply(const redisReply *reply);

// Helpers for reading replies.
QByteArray replyString(const redisReply *reply);
std::optional<qint64> replyInteger(const redisReply *reply); // integer, or a numeric string

} // namespace coupon
