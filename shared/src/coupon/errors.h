#pragma once

// The one place where C error codes of hiredis, librdkafka and Qt Sql become
// coupon::Error values (redis-plus-plus errors.cpp, modern-cpp-kafka Error.h).

#include "coupon/result.h"

#include <hiredis/hiredis.h>
#include <librdkafka/rdkafka.h>

class QSqlError;

namespace coupon::errors {

// Codes: "redis.unavailable" (connect, I/O, EOF, timeout), "redis.protocol",
// "redis.reply" (an error reply; message is Redis' text), "redis.noscript".
Error fromRedisContext(const redisContext *context, const QString &what);
Error fromRedisReply(const redisReply *reply);
bool isNoScript(const redisReply *reply);

// Codes: "kafka.<librdkafka error name>", e.g. "kafka._MSG_TIMED_OUT".
Error fromKafka(rd_kafka_resp_err_t err, const QString &what = {});
Error fromKafka(const rd_kafka_error_t *error, const QString &what = {});

// Codes: "mysql.connection" (lost or refused: reconnect and retry the whole
// unit of work), "mysql.query" (anything else; the message has the server's text).
Error fromSql(const QSqlError &error, const QString &what);
bool isConnectionError(const Error &error);

} // namespace coupon::errors
