#include "coupon/mysql/sql_errors.h"

#include <QSqlError>

using namespace Qt::StringLiterals;

namespace coupon::errors {

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

bool isConnectionError(const Error &error)
{
    return error.code == u"mysql.connection"_s;
}

} // namespace coupon::errors
