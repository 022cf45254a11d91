#pragma once

#include "coupon/base/result.h"
#include "coupon/base/settings.h"
#include "coupon/protocol/keys.h"
#include "coupon/protocol/reply.h"
#include "coupon/protocol/scripts.h"
#include "coupon/redis/redis_handles.h"
#include "coupon/redis/sentinel.h"

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

// What a connection learns from INFO when it connects: which Redis process
// it talks to (its run_id changes with every restart and differs between a
// primary and the replica promoted in its place) and whether it is still
// loading its data.
struct RedisIdentity
{
    QByteArray runId;
    // master_replid2: the replication history a promotion continued (all
    // zeros until the first promotion since start). A node that was made a
    // replica took over its master's history, so once promoted back it
    // shows that one here. (master_replid itself would not do: it also
    // changes when a master without a backlog gets its first replica.)
    QByteArray promotedFrom;
    bool loading = false;
    QByteArray role; // "master" or "slave" (INFO's word for a replica)

    // What a campaign's meta is stamped with: "<run_id>:<master_replid2>".
    // The run_id alone would pass a master that was demoted (taking over
    // another's data, without the writes it acknowledged alone) and
    // promoted back without a restart.
    QByteArray instance() const { return promotedFrom.isEmpty() ? runId : runId + ':' + promotedFrom; }
};
RedisIdentity parseRedisInfo(QByteArrayView info);

// One command on a blocking hiredis context: the reply, or null when the
// connection failed (context->err says why).
RedisReplyHandle sendCommand(redisContext *context, const RedisArgs &args);
// A timeout in milliseconds as hiredis takes it.
timeval toTimeval(int ms);

// The AUTH a connection sends before anything else: `AUTH user password` for
// an ACL user, `AUTH password` for the default user; empty when neither is set.
RedisArgs authCommand(const RedisSettings &settings);

// One synchronous hiredis connection with connect and command timeouts. A
// broken connection is dropped and re-established on the next call; a call
// that fails is not retried here (the caller knows whether it may be).
// With redis.sentinels, every connect asks the Sentinels for the master and
// refuses a node that is not one; while connected the Sentinels are asked
// again every redis.sentinel.check.ms (before a call), and a write refused
// READONLY (the node was demoted) drops the connection: a failover is
// followed on the next call. Not thread-safe: one thread at a time (see
// RedisPipeline).
class RedisConnection
{
public:
    explicit RedisConnection(RedisSettings settings);

    // Connects and reads INFO: a Redis still loading its data is refused
    // (redis.unavailable) until it is done.
    Status connect();
    Status ensureConnected();
    bool isConnected() const { return m_context != nullptr; }
    // The run_id of the Redis this connection talks to (empty while
    // disconnected); fixed for the life of one connection.
    QByteArray instance() const { return m_context ? m_identity.instance() : QByteArray(); }
    // Where it is connected (or was last), e.g. for messages.
    const RedisEndpoint &endpoint() const { return m_endpoint; }

    // Errors: redis.unavailable (nothing was sent), redis.no_reply (sent, no
    // reply: it may have run), redis.protocol, redis.reply (Redis' text).
    Result<RedisReplyHandle> command(const RedisArgs &args);
    // Sends all commands, then reads all replies: one round trip. An error
    // reply is returned as a reply, not as an error.
    Result<std::vector<RedisReplyHandle>> pipeline(const std::vector<RedisArgs> &commands);
    // EVALSHA, loading the script on NOSCRIPT and trying once more.
    Result<RedisReplyHandle> eval(const LuaScript &script, const RedisArgs &keys, const RedisArgs &args);

private:
    Error dropWith(const QString &what, Errc errc);
    Error demoted(const redisReply *reply);

    RedisSettings m_settings;
    RedisContextHandle m_context;
    RedisIdentity m_identity;
    RedisEndpoint m_endpoint;
    qint64 m_sentinelCheckedMs = 0;
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
    // The same with the lane connection's Redis instance appended to `args`
    // as it is sent, and handed to the callback with the reply.
    using InstanceCallback = std::function<void(Result<RedisReplyHandle>, const QByteArray &instance)>;
    void evalOnInstance(const LuaScript &script, const RedisArgs &keys, const RedisArgs &args,
                        InstanceCallback callback);

private:
    struct Item
    {
        RedisArgs args;
        const LuaScript *script = nullptr; // set for EVALSHA
        RedisArgs keys, scriptArgs;
        Callback callback;
        InstanceCallback instanceCallback; // set instead of callback: append the instance
        QByteArray instance;
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
std::optional<qint64> replyTimeMs(const redisReply *reply);  // TIME's {seconds, microseconds} in ms

} // namespace coupon
