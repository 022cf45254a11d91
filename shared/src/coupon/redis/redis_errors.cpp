#include "coupon/redis/redis_errors.h"

#include <string_view>

using namespace Qt::StringLiterals;

namespace coupon::errors {

Error fromRedisContext(const redisContext *context, const QString &what)
{
    if (!context)
        return Error(Errc::RedisUnavailable, what + u": out of memory creating a context"_s);
    const QString text = QString::fromUtf8(context->errstr);
    switch (context->err) {
    case REDIS_ERR_PROTOCOL: return Error(Errc::RedisProtocol, what + u": protocol error: "_s + text);
    case REDIS_ERR_IO:
    case REDIS_ERR_EOF:
    case REDIS_ERR_OTHER:
    default:
        // hiredis 0.14 reports a timed-out read as an I/O error (EAGAIN).
        return Error(Errc::RedisUnavailable, what + u": "_s + (text.isEmpty() ? u"connection lost"_s : text));
    }
}

bool isNoScript(const redisReply *reply)
{
    return reply && reply->type == REDIS_REPLY_ERROR && reply->len >= 8
        && std::string_view(reply->str, 8) == "NOSCRIPT";
}

bool isReadOnly(const redisReply *reply)
{
    return reply && reply->type == REDIS_REPLY_ERROR && reply->len >= 8
        && std::string_view(reply->str, 8) == "READONLY";
}

Error fromRedisReply(const redisReply *reply)
{
    const QString text = QString::fromUtf8(reply->str, qsizetype(reply->len));
    if (isNoScript(reply))
        return Error(Errc::RedisNoScript, text);
    return Error(Errc::RedisReply, text);
}

bool isNoAuth(const QString &replyText)
{
    return replyText.startsWith(u"NOAUTH"_s);
}

Error fromRedisAuth(const QString &where, const QString &user, const QString &replyText)
{
    if (isNoAuth(replyText))
        return Error(Errc::RedisAuth, where + u": "_s + replyText + u" (set redis.user and redis.password)"_s);
    const QString who = user.isEmpty() ? u"the default user"_s : u"user "_s + user;
    return Error(Errc::RedisAuth, where + u": redis.user/redis.password (%1): "_s.arg(who) + replyText);
}

} // namespace coupon::errors
