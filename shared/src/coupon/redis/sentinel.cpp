#include "coupon/redis/sentinel.h"

#include "coupon/redis/redis.h"
#include "coupon/redis/redis_errors.h"

#include <atomic>
#include <optional>

using namespace Qt::StringLiterals;

namespace coupon {

namespace {

// One question to one Sentinel: SENTINEL get-master-addr-by-name.
Result<RedisEndpoint> askSentinel(const RedisSettings &settings, const QString &host, quint16 port)
{
    // A plain connection, not RedisConnection: a Sentinel is not a data node
    // (no database to select, nothing to identify). Its AUTH is its own.
    RedisSettings credentials;
    credentials.user = settings.sentinelUser;
    credentials.password = settings.sentinelPassword;
    const QByteArray hostText = host.toUtf8();
    const timeval timeout = toTimeval(settings.connectTimeoutMs);
    RedisContextHandle context(redisConnectWithTimeout(hostText.constData(), port, timeout));
    const QString where = u"Sentinel %1:%2"_s.arg(host).arg(port);
    if (!context || context->err)
        return errors::fromRedisContext(context.get(), where);
    if (redisSetTimeout(context.get(), timeout) != REDIS_OK)
        return errors::fromRedisContext(context.get(), where);
    auto run = [&](const RedisArgs &args) -> Result<RedisReplyHandle> {
        RedisReplyHandle reply = sendCommand(context.get(), args);
        if (!reply)
            return errors::fromRedisContext(context.get(), where);
        return reply;
    };
    if (const RedisArgs auth = authCommand(credentials); !auth.empty()) {
        Result<RedisReplyHandle> reply = run(auth);
        if (!reply)
            return reply.error();
        if ((*reply)->type == REDIS_REPLY_ERROR)
            return Error(Errc::RedisAuth,
                         where + u": redis.sentinel.user/redis.sentinel.password: "_s
                             + QString::fromUtf8((*reply)->str, qsizetype((*reply)->len)));
    }
    Result<RedisReplyHandle> reply = run({"SENTINEL", "get-master-addr-by-name", settings.masterName.toUtf8()});
    if (!reply)
        return reply.error();
    const redisReply *r = reply->get();
    if (r->type == REDIS_REPLY_ERROR) {
        const QString text = QString::fromUtf8(r->str, qsizetype(r->len));
        if (errors::isNoAuth(text))
            return Error(Errc::RedisAuth, where + u": "_s + text + u" (set redis.sentinel.password)"_s);
        return Error(Errc::RedisUnavailable, where + u": "_s + text);
    }
    if (r->type == REDIS_REPLY_NIL)
        return Error(Errc::RedisUnavailable,
                     where + u": knows no master named \"%1\" (redis.master.name)"_s.arg(settings.masterName));
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        return Error(Errc::RedisProtocol, where + u": unexpected answer to SENTINEL get-master-addr-by-name"_s);
    bool ok = false;
    const uint masterPort = replyString(r->element[1]).toUInt(&ok);
    if (!ok || masterPort == 0 || masterPort > 65535)
        return Error(Errc::RedisProtocol, where + u": names a master with no valid port"_s);
    return RedisEndpoint{QString::fromUtf8(replyString(r->element[0])), quint16(masterPort)};
}

} // namespace

Result<RedisEndpoint> findRedisMaster(const RedisSettings &settings)
{
    if (!settings.usesSentinels())
        return RedisEndpoint{settings.host, settings.port};
    // Redis' guide for Sentinel clients: ask the one that answered last
    // first, so a dead first Sentinel costs its timeout once, not every time.
    static std::atomic<int> lastAnswered{0};
    const int count = int(settings.sentinels.size());
    const int first = lastAnswered.load() % count;
    QStringList said;
    std::optional<Error> refused;
    for (int i = 0; i < count; ++i) {
        const int index = (first + i) % count;
        const auto &[host, port] = settings.sentinels.at(index);
        Result<RedisEndpoint> master = askSentinel(settings, host, port);
        if (master) {
            lastAnswered.store(index);
            return master;
        }
        // One Sentinel refusing the password (misconfigured, restarted
        // without it) must not stop the others from being asked.
        if (master.error().is(Errc::RedisAuth) && !refused)
            refused = master.error();
        said << master.error().message;
    }
    if (refused && said.size() == 1)
        return *refused;
    return Error(refused ? Errc::RedisAuth : Errc::RedisUnavailable,
                 u"no Sentinel named the master \"%1\": %2"_s.arg(settings.masterName, said.join(u"; "_s)));
}

} // namespace coupon
