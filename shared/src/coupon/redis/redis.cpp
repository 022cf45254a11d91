#include "coupon/redis/redis.h"

#include "coupon/base/clock.h"
#include "coupon/base/threads.h"
#include "coupon/redis/redis_errors.h"

#include <functional>
#include <thread>

using namespace Qt::StringLiterals;

namespace coupon {

RedisArgv::RedisArgv(const RedisArgs &args)
{
    pointers.reserve(args.size());
    lengths.reserve(args.size());
    for (const QByteArray &arg : args) {
        pointers.push_back(arg.constData());
        lengths.push_back(size_t(arg.size()));
    }
}

RedisIdentity parseRedisInfo(QByteArrayView info)
{
    RedisIdentity id;
    for (const QByteArray &raw : info.toByteArray().split('\n')) {
        const QByteArray line = raw.trimmed();
        if (line.startsWith("run_id:"))
            id.runId = line.mid(7);
        else if (line.startsWith("master_replid2:"))
            id.promotedFrom = line.mid(15);
        else if (line.startsWith("loading:"))
            id.loading = line.mid(8) == "1";
        else if (line.startsWith("role:"))
            id.role = line.mid(5);
    }
    return id;
}

RedisArgs authCommand(const RedisSettings &settings)
{
    if (!settings.user.isEmpty())
        return {"AUTH", settings.user.toUtf8(), settings.password.toUtf8()};
    if (!settings.password.isEmpty())
        return {"AUTH", settings.password.toUtf8()};
    return {};
}

RedisConnection::RedisConnection(RedisSettings settings)
    : m_settings(std::move(settings))
{ }

timeval toTimeval(int ms)
{
    return timeval{ms / 1000, (ms % 1000) * 1000};
}

RedisReplyHandle sendCommand(redisContext *context, const RedisArgs &args)
{
    RedisArgv argv(args); // hiredis 0.14 takes a non-const argv
    return RedisReplyHandle(
        static_cast<redisReply *>(redisCommandArgv(context, argv.count(), argv.pointers.data(), argv.lengths.data())));
}

Status RedisConnection::connect()
{
    m_context.reset();
    Result<RedisEndpoint> endpoint = findRedisMaster(m_settings);
    if (!endpoint)
        return endpoint.error();
    m_endpoint = *endpoint;
    m_sentinelCheckedMs = SteadyClock::instance().nowMs();
    const QByteArray host = m_endpoint.host.toUtf8();
    RedisContextHandle context(
        redisConnectWithTimeout(host.constData(), m_endpoint.port, toTimeval(m_settings.connectTimeoutMs)));
    const QString where = u"Redis "_s + m_endpoint.text();
    if (!context || context->err)
        return errors::fromRedisContext(context.get(), where);
    if (redisSetTimeout(context.get(), toTimeval(m_settings.commandTimeoutMs)) != REDIS_OK)
        return errors::fromRedisContext(context.get(), where);
    redisEnableKeepAlive(context.get());

    auto handshake = [&](const RedisArgs &args) -> Status {
        RedisReplyHandle reply = sendCommand(context.get(), args);
        if (!reply)
            return errors::fromRedisContext(context.get(), where);
        if (reply->type == REDIS_REPLY_ERROR) {
            const QString text = QString::fromUtf8(reply->str, qsizetype(reply->len));
            if (args.front() == "AUTH" || errors::isNoAuth(text))
                return errors::fromRedisAuth(where, m_settings.user, text);
            return Error(Errc::RedisAuth, where + u": "_s + QString::fromUtf8(args.front()) + u": "_s + text);
        }
        return Ok{};
    };
    // AUTH first: a Redis with ACLs answers nothing else (not even INFO) before it.
    if (const RedisArgs auth = authCommand(m_settings); !auth.empty()) {
        if (Status st = handshake(auth); !st)
            return st;
    }
    if (m_settings.database != 0) {
        if (Status st = handshake({"SELECT", QByteArray::number(m_settings.database)}); !st)
            return st;
    }
    RedisReplyHandle info = sendCommand(context.get(), {"INFO"});
    if (!info)
        return errors::fromRedisContext(context.get(), where);
    if (info->type == REDIS_REPLY_ERROR && errors::isNoAuth(QString::fromUtf8(info->str, qsizetype(info->len))))
        return errors::fromRedisAuth(where, m_settings.user, QString::fromUtf8(info->str, qsizetype(info->len)));
    if (info->type != REDIS_REPLY_STRING)
        return Error(Errc::RedisProtocol, where + u": INFO: "_s + QString::fromUtf8(replyString(info.get())));
    m_identity = parseRedisInfo(QByteArrayView(info->str, qsizetype(info->len)));
    if (m_identity.loading)
        return Error(Errc::RedisUnavailable, where + u": still loading its data"_s);
    if (m_identity.runId.isEmpty())
        return Error(Errc::RedisProtocol, where + u": INFO names no run_id"_s);
    if (m_settings.usesSentinels() && m_identity.role != "master")
        return Error(Errc::RedisUnavailable,
                     where
                         + u": named master by a Sentinel but is a %1 (a failover is under way)"_s.arg(
                             QString::fromUtf8(m_identity.role)));
    m_context = std::move(context);
    return Ok{};
}

Status RedisConnection::ensureConnected()
{
    if (m_context && m_settings.usesSentinels()
        && SteadyClock::instance().nowMs() - m_sentinelCheckedMs >= m_settings.sentinelCheckMs) {
        // Still the master? A Sentinel that cannot be asked changes nothing:
        // the connection stays until it fails or is refused READONLY. A new
        // master fails this call (nothing sent) rather than reconnecting in
        // the middle of a caller's unit of work: a caller that read
        // instance() or began a WATCH must not go on against another Redis.
        Result<RedisEndpoint> master = findRedisMaster(m_settings);
        m_sentinelCheckedMs
            = SteadyClock::instance().nowMs(); // after the ask: a slow Sentinel must not make every call ask
        if (master && *master != m_endpoint) {
            m_context.reset();
            return Error(
                Errc::RedisUnavailable,
                u"Redis %1 is no longer the master (Sentinel names %2); connecting there on the next call"_s.arg(
                    m_endpoint.text(), master->text()));
        }
    }
    if (m_context)
        return Ok{};
    return connect();
}

Error RedisConnection::demoted(const redisReply *reply)
{
    // The node was demoted to a replica under us: nothing was written (a
    // script's first write is refused before it changed anything). Connect
    // again on the next call, through the Sentinels.
    m_context.reset();
    return Error(Errc::RedisUnavailable,
                 u"Redis %1 is no longer the master: %2"_s.arg(m_endpoint.text(),
                                                               QString::fromUtf8(reply->str, qsizetype(reply->len))));
}

Error RedisConnection::dropWith(const QString &what, Errc errc)
{
    Error error = errors::fromRedisContext(m_context.get(), what);
    if (error.is(Errc::RedisUnavailable) && errc == Errc::RedisNoReply)
        error = Error(Errc::RedisNoReply, error.message + u" (sent; it may have run)"_s);
    // After an I/O error hiredis' context is unusable; the next call reconnects.
    m_context.reset();
    return error;
}

Result<RedisReplyHandle> RedisConnection::command(const RedisArgs &args)
{
    if (Status st = ensureConnected(); !st)
        return st.error();
    RedisReplyHandle reply = sendCommand(m_context.get(), args);
    if (!reply)
        return dropWith(u"Redis %1"_s.arg(QString::fromUtf8(args.front())), Errc::RedisNoReply);
    if (errors::isReadOnly(reply.get()))
        return demoted(reply.get());
    if (reply->type == REDIS_REPLY_ERROR)
        return errors::fromRedisReply(reply.get());
    return reply;
}

Result<std::vector<RedisReplyHandle>> RedisConnection::pipeline(const std::vector<RedisArgs> &commands)
{
    if (Status st = ensureConnected(); !st)
        return st.error();
    for (const RedisArgs &args : commands) {
        RedisArgv argv(args); // hiredis 0.14 takes a non-const argv
        if (redisAppendCommandArgv(m_context.get(), argv.count(), argv.pointers.data(), argv.lengths.data())
            != REDIS_OK)
            return dropWith(u"Redis pipeline"_s, Errc::RedisUnavailable);
    }
    std::vector<RedisReplyHandle> replies;
    replies.reserve(commands.size());
    for (size_t i = 0; i < commands.size(); ++i) {
        void *raw = nullptr;
        if (redisGetReply(m_context.get(), &raw) != REDIS_OK)
            return dropWith(u"Redis pipeline"_s, Errc::RedisNoReply);
        replies.emplace_back(static_cast<redisReply *>(raw));
    }
    for (const RedisReplyHandle &reply : replies) {
        if (errors::isReadOnly(reply.get())) {
            m_context.reset(); // demoted: the next call asks the Sentinels again
            break;
        }
    }
    return replies;
}

Result<RedisReplyHandle> RedisConnection::eval(const LuaScript &script, const RedisArgs &keys, const RedisArgs &args)
{
    const RedisArgs call = evalshaCommand(script, keys, args);
    Result<RedisReplyHandle> reply = command(call);
    if (!reply && reply.error().is(Errc::RedisNoScript)) {
        // Redis restarted or SCRIPT FLUSH: load the text and try once more.
        Result<RedisReplyHandle> loaded = command({"SCRIPT", "LOAD", script.source});
        if (!loaded) // the script was not run (NOSCRIPT) and not sent again
            return Error(Errc::RedisUnavailable, loaded.error().message);
        return command(call);
    }
    return reply;
}

RedisPipeline::RedisPipeline(const RedisSettings &settings, int lanes)
{
    for (int i = 0; i < std::max(lanes, 1); ++i) {
        m_lanes.push_back(std::make_unique<Lane>(settings));
        Lane *lane = m_lanes.back().get();
        lane->thread = std::thread([this, lane, n = m_lanes.size() - 1] {
            setCurrentThreadName(("redis-lane-" + std::to_string(n)).c_str());
            run(*lane);
        });
    }
}

RedisPipeline::~RedisPipeline()
{
    for (const auto &lane : m_lanes) {
        {
            std::lock_guard lock(lane->mutex);
            lane->stopping = true;
        }
        lane->wake.notify_one();
    }
    for (const auto &lane : m_lanes)
        lane->thread.join();
}

void RedisPipeline::enqueue(Item item)
{
    Lane &lane = *m_lanes[std::hash<std::thread::id>{}(std::this_thread::get_id()) % m_lanes.size()];
    bool wasEmpty = false;
    {
        std::lock_guard lock(lane.mutex);
        wasEmpty = lane.queue.empty();
        lane.queue.push_back(std::move(item));
    }
    if (wasEmpty)
        lane.wake.notify_one();
}

void RedisPipeline::submit(RedisArgs args, Callback callback)
{
    Item item;
    item.args = std::move(args);
    item.callback = std::move(callback);
    enqueue(std::move(item));
}

void RedisPipeline::eval(const LuaScript &script, const RedisArgs &keys, const RedisArgs &args, Callback callback)
{
    Item item;
    item.args = evalshaCommand(script, keys, args);
    item.script = &script;
    item.keys = keys;
    item.scriptArgs = args;
    item.callback = std::move(callback);
    enqueue(std::move(item));
}

void RedisPipeline::evalOnInstance(const LuaScript &script, const RedisArgs &keys, const RedisArgs &args,
                                   InstanceCallback callback)
{
    Item item;
    item.script = &script;
    item.keys = keys;
    item.scriptArgs = args;
    item.instanceCallback = std::move(callback);
    enqueue(std::move(item));
}

void RedisPipeline::run(Lane &lane)
{
    std::vector<Item> batch;
    std::vector<RedisArgs> commands;
    for (;;) {
        {
            std::unique_lock lock(lane.mutex);
            lane.wake.wait(lock, [&] { return lane.stopping || !lane.queue.empty(); });
            if (lane.queue.empty())
                return; // stopping, and everything queued was answered
            batch.swap(lane.queue);
        }
        // The instance is the connection's, read as it connected: connect
        // first, so what is appended names the Redis the batch goes to.
        const Status connected = lane.connection.ensureConnected();
        commands.clear();
        for (Item &item : batch) {
            if (item.instanceCallback) {
                item.instance = lane.connection.instance();
                item.scriptArgs.push_back(item.instance);
                item.args = evalshaCommand(*item.script, item.keys, item.scriptArgs);
            }
            commands.push_back(std::move(item.args));
        }
        Result<std::vector<RedisReplyHandle>> replies = connected
            ? lane.connection.pipeline(commands)
            : Result<std::vector<RedisReplyHandle>>(connected.error());
        for (size_t i = 0; i < batch.size(); ++i) {
            Item &item = batch[i];
            auto answer = [&item](Result<RedisReplyHandle> r) {
                if (item.instanceCallback)
                    item.instanceCallback(std::move(r), item.instance);
                else
                    item.callback(std::move(r));
            };
            if (!replies) {
                answer(replies.error());
                continue;
            }
            RedisReplyHandle &reply = replies.value()[i];
            if (item.script && errors::isNoScript(reply.get())) {
                // Redis restarted or SCRIPT FLUSH: load it and retry, on the
                // same Redis only (a reconnect in between may reach another).
                Result<RedisReplyHandle> loaded = lane.connection.command({"SCRIPT", "LOAD", item.script->source});
                if (!loaded) // the script was not run (NOSCRIPT) and not sent again
                    answer(Error(Errc::RedisUnavailable, loaded.error().message));
                else if (item.instanceCallback && lane.connection.instance() != item.instance)
                    answer(Error(Errc::RedisUnavailable, u"Redis changed while loading a script"_s));
                else
                    answer(lane.connection.command(evalshaCommand(*item.script, item.keys, item.scriptArgs)));
            } else if (reply->type == REDIS_REPLY_ERROR) {
                answer(errors::fromRedisReply(reply.get()));
            } else {
                answer(std::move(reply));
            }
        }
        batch.clear();
    }
}

Reply toReply(const redisReply *reply)
{
    Reply r;
    if (!reply)
        return r;
    switch (reply->type) {
    case REDIS_REPLY_INTEGER:
        r.type = Reply::Type::Integer;
        r.integer = reply->integer;
        break;
    case REDIS_REPLY_ARRAY:
        r.type = Reply::Type::Array;
        r.elements.reserve(reply->elements);
        for (size_t i = 0; i < reply->elements; ++i)
            r.elements.push_back(toReply(reply->element[i]));
        break;
    case REDIS_REPLY_NIL: break;
    case REDIS_REPLY_STATUS:
        r.type = Reply::Type::SimpleString;
        r.text = QByteArray(reply->str, qsizetype(reply->len));
        break;
    case REDIS_REPLY_ERROR:
        r.type = Reply::Type::ErrorReply;
        r.text = QByteArray(reply->str, qsizetype(reply->len));
        break;
    default: // strings, and any scalar of a newer protocol, as text
        r.type = Reply::Type::String;
        r.text = QByteArray(reply->str, qsizetype(reply->len));
        break;
    }
    return r;
}

QByteArray replyString(const redisReply *reply)
{
    if (reply
        && (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS || reply->type == REDIS_REPLY_ERROR))
        return QByteArray(reply->str, qsizetype(reply->len));
    return {};
}

std::optional<qint64> replyTimeMs(const redisReply *reply)
{
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2)
        return std::nullopt;
    const std::optional<qint64> seconds = replyInteger(reply->element[0]);
    const std::optional<qint64> micros = replyInteger(reply->element[1]);
    if (!seconds || !micros)
        return std::nullopt;
    return *seconds * 1000 + *micros / 1000;
}

std::optional<qint64> replyInteger(const redisReply *reply)
{
    if (!reply)
        return std::nullopt;
    if (reply->type == REDIS_REPLY_INTEGER)
        return reply->integer;
    if (reply->type == REDIS_REPLY_STRING) {
        bool ok = false;
        const qint64 value = QByteArray(reply->str, qsizetype(reply->len)).toLongLong(&ok);
        if (ok)
            return value;
    }
    return std::nullopt;
}

} // namespace coupon
