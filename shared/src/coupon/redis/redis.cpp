#include "coupon/redis/redis.h"

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

RedisConnection::RedisConnection(RedisSettings settings)
    : m_settings(std::move(settings))
{ }

namespace {

timeval toTimeval(int ms)
{
    return timeval{ms / 1000, (ms % 1000) * 1000};
}

redisReply *send(redisContext *context, const RedisArgs &args)
{
    RedisArgv argv(args); // hiredis 0.14 takes a non-const argv
    return static_cast<redisReply *>(
        redisCommandArgv(context, argv.count(), argv.pointers.data(), argv.lengths.data()));
}

} // namespace

Status RedisConnection::connect()
{
    m_context.reset();
    const QByteArray host = m_settings.host.toUtf8();
    RedisContextHandle context(
        redisConnectWithTimeout(host.constData(), m_settings.port, toTimeval(m_settings.connectTimeoutMs)));
    const QString where = u"Redis %1:%2"_s.arg(m_settings.host).arg(m_settings.port);
    if (!context || context->err)
        return errors::fromRedisContext(context.get(), where);
    if (redisSetTimeout(context.get(), toTimeval(m_settings.commandTimeoutMs)) != REDIS_OK)
        return errors::fromRedisContext(context.get(), where);
    redisEnableKeepAlive(context.get());

    auto handshake = [&](const RedisArgs &args) -> Status {
        RedisReplyHandle reply(send(context.get(), args));
        if (!reply)
            return errors::fromRedisContext(context.get(), where);
        if (reply->type == REDIS_REPLY_ERROR)
            return Error(Errc::RedisAuth, where + u": "_s + QString::fromUtf8(reply->str));
        return Ok{};
    };
    if (!m_settings.password.isEmpty()) {
        if (Status st = handshake({"AUTH", m_settings.password.toUtf8()}); !st)
            return st;
    }
    if (m_settings.database != 0) {
        if (Status st = handshake({"SELECT", QByteArray::number(m_settings.database)}); !st)
            return st;
    }
    m_context = std::move(context);
    return Ok{};
}

Status RedisConnection::ensureConnected()
{
    if (m_context)
        return Ok{};
    return connect();
}

Error RedisConnection::dropWith(const QString &what)
{
    Error error = errors::fromRedisContext(m_context.get(), what);
    // After an I/O error hiredis' context is unusable; the next call reconnects.
    m_context.reset();
    return error;
}

Result<RedisReplyHandle> RedisConnection::command(const RedisArgs &args)
{
    if (Status st = ensureConnected(); !st)
        return st.error();
    RedisReplyHandle reply(send(m_context.get(), args));
    if (!reply)
        return dropWith(u"Redis %1"_s.arg(QString::fromUtf8(args.front())));
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
            return dropWith(u"Redis pipeline"_s);
    }
    std::vector<RedisReplyHandle> replies;
    replies.reserve(commands.size());
    for (size_t i = 0; i < commands.size(); ++i) {
        void *raw = nullptr;
        if (redisGetReply(m_context.get(), &raw) != REDIS_OK)
            return dropWith(u"Redis pipeline"_s);
        replies.emplace_back(static_cast<redisReply *>(raw));
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
        if (!loaded)
            return loaded.error();
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
        commands.clear();
        for (Item &item : batch)
            commands.push_back(std::move(item.args));
        Result<std::vector<RedisReplyHandle>> replies = lane.connection.pipeline(commands);
        for (size_t i = 0; i < batch.size(); ++i) {
            Item &item = batch[i];
            if (!replies) {
                item.callback(replies.error());
                continue;
            }
            RedisReplyHandle &reply = replies.value()[i];
            if (item.script && errors::isNoScript(reply.get())) {
                // Redis restarted or SCRIPT FLUSH: eval() loads it and retries.
                item.callback(lane.connection.eval(*item.script, item.keys, item.scriptArgs));
            } else if (reply->type == REDIS_REPLY_ERROR) {
                item.callback(errors::fromRedisReply(reply.get()));
            } else {
                item.callback(std::move(reply));
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
