#include "coupon/errors.h"

#include <QSqlError>

using namespace Qt::StringLiterals;

namespace coupon::errors {

Error fromRedisContext(const redisContext *context, const QString &what)
{
    if (!context)
        return {u"redis.unavailable"_s, what + u": out of memory creating a context"_s};
    const QString text = QString::fromUtf8(context->errstr);
    switch (context->err) {
    case REDIS_ERR_PROTOCOL:
        return {u"redis.protocol"_s, what + u": protocol error: "_s + text};
    case REDIS_ERR_IO:
    case REDIS_ERR_EOF:
    case REDIS_ERR_OTHER:
    default:
        // hiredis 0.14 reports a timed-out read as an I/O error (EAGAIN).
        return {u"redis.unavailable"_s, what + u": "_s + (text.isEmpty() ? u"connection lost"_s : text)};
    }
}

bool isNoScript(const redisReply *reply)
{
    return reply && reply->type == REDIS_REPLY_ERROR && reply->len >= 8
           && std::string_view(reply->str, 8) == "NOSCRIPT";
}

Error fromRedisReply(const redisReply *reply)
{
    const QString text = QString::fromUtf8(reply->str, qsizetype(reply->len));
    if (isNoScript(reply))
        return {u"redis.noscript"_s, text};
    return {u"redis.reply"_s, text};
}

Error fromKafka(rd_kafka_resp_err_t err, const QString &what)
{
    const QString text = QString::fromUtf8(rd_kafka_err2str(err));
    return {u"kafka."_s + QString::fromUtf8(rd_kafka_err2name(err)),
            what.isEmpty() ? text : what + u": "_s + text};
}

Error fromKafka(const rd_kafka_error_t *error, const QString &what)
{
    const QString text = QString::fromUtf8(rd_kafka_error_string(error));
    return {u"kafka."_s + QString::fromUtf8(rd_kafka_error_name(error)),
            what.isEmpty() ? text : what + u": "_s + text};
}

Error fromSql(const QSqlError &error, const QString &what)
{
    // MySQL client error numbers for a connection that is gone or refused:
    // 2002/2003 can't connect, 2006 server has gone away, 2013 lost during
    // query, 2055 lost at handshake; 1927 connection killed; 1053 shutdown.
    static constexpr int kConnectionCodes[] = {2002, 2003, 2006, 2013, 2055, 1927, 1053, 2026};
    bool connection = error.type() == QSqlError::ConnectionError;
    bool ok = false;
    const int native = error.nativeErrorCode().toInt(&ok);
    if (ok) {
        for (const int code : kConnectionCodes)
            connection = connection || native == code;
    }
    QString text = error.text();
    if (text.isEmpty())
        text = u"unknown SQL error"_s;
    return {connection ? u"mysql.connection"_s : u"mysql.query"_s, what + u": "_s + text};
}

bool isConnectionError(const Error &error) { return error.code == u"mysql.connection"_s; }

} // namespace coupon::errors
