#pragma once

// The one place where Qt Sql's errors and MySQL's error numbers become coupon::Error values
// (redis-plus-plus errors.cpp, modern-cpp-kafka Error.h); each client layer
// has its own such file, so nothing above it sees the C library's types.

#include "coupon/base/result.h"

class QSqlError;

namespace coupon::errors {

// Codes: "mysql.connection" (lost or refused: reconnect and retry the whole
// unit of work), "mysql.query" (anything else; the message has the server's text).
Error fromSql(const QSqlError &error, const QString &what);
bool isConnectionError(const Error &error);

// What a failed statement's error number means, for the callers that answer
// some failures with an error code of their own.
bool isDuplicateKey(const QSqlError &error);       // a UNIQUE or PRIMARY key already holds the value
bool isCheckViolation(const QSqlError &error);     // a CHECK constraint refused the row
bool isSchemaAccessDenied(const QSqlError &error); // the user may not create or change tables

} // namespace coupon::errors
