#pragma once

// Values spelled as SQL text, for the statements that are built as strings
// (the batch writer's multi-row inserts, the migrations' bookkeeping), and the
// one conversion back from a DATETIME column. Internal to mysql/.

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QVariant>

namespace coupon::mysql {

QString sqlString(const QString &text);    // a quoted, escaped string literal
QString sqlBytes(const QByteArray &bytes); // a hex literal X'..'
QString sqlTime(const QDateTime &time);    // a quoted UTC time, or NULL when invalid
QDateTime utc(const QVariant &value);      // a DATETIME read back (the session is in UTC)

} // namespace coupon::mysql
