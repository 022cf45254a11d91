#pragma once

// The one place where hiredis' error codes and error replies become coupon::Error values
// (redis-plus-plus errors.cpp, modern-cpp-kafka Error.h); each client layer
// has its own such file, so nothing above it sees the C library's types.

#include "coupon/base/result.h"

#include <hiredis/hiredis.h>

namespace coupon::errors {

// Codes: "redis.unavailable" (connect, I/O, EOF, timeout), "redis.protocol",
// "redis.reply" (an error reply; message is Redis' text), "redis.noscript".
Error fromRedisContext(const redisContext *context, const QString &what);
Error fromRedisReply(const redisReply *reply);
bool isNoScript(const redisReply *reply);
// A write refused by a replica (-READONLY): the node was a master and was
// demoted, or a client reached a replica. Nothing was written.
bool isReadOnly(const redisReply *reply);
// "redis.auth": Redis refused the AUTH the settings asked for (WRONGPASS), or
// wants one they did not give (NOAUTH). Names the settings and the user,
// never the password.
Error fromRedisAuth(const QString &where, const QString &user, const QString &replyText);
bool isNoAuth(const QString &replyText);

} // namespace coupon::errors
