#include "coupon/mysql/sql_errors.h"

#include <QSqlError>

using namespace Qt::StringLiterals;

namespace coupon::errors {

namespace {

// MySQL's error number, or 0 when the error carries none.
int nativeCode(const QSqlError &error)
{
    bool ok = false;
    const int native = error.nativeErrorCode().toInt(&ok);
    return ok ? native : 0;
}

} // namespace

Error fromSql(const QSqlError &error, const QString &what)
{
    // MySQL client error numbers for a connection that is gone or refused:
    // 2002/2003 can't connect, 2006 server has gone away, 2013 lost during
    // query, 2055 lost at handshake; 1927 connection killed; 1053 shutdown.
    static constexpr int kConnectionCodes[] = {2002, 2003, 2006, 2013, 2055, 1927, 1053, 2026};
    bool connection = error.type() == QSqlError::ConnectionError;
    if (const int native = nativeCode(error)) {
        for (const int code : kConnectionCodes)
            connection = connection || native == code;
    }
    QString text = error.text();
    if (text.isEmpty())
        text = u"unknown SQL error"_s;
    return Error(connection ? Errc::MysqlConnection : Errc::MysqlQuery, what + u": "_s + text);
}

bool isConnectionError(const Error &error)
{
    return error.is(Errc::MysqlConnection);
}

bool isDuplicateKey(const QSqlError &error)
{
    return nativeCode(error) == 1062; // ER_DUP_ENTRY
}

bool isCheckViolation(const QSqlError &error)
{
    return nativeCode(error) == 4025; // ER_CONSTRAINT_FAILED (MariaDB)
}

bool isSchemaAccessDenied(const QSqlError &error)
{
    // ER_TABLEACCESS_DENIED_ERROR (CREATE/ALTER on a table), ER_DBACCESS_DENIED_ERROR.
    const int native = nativeCode(error);
    return native == 1142 || native == 1044;
}

} // namespace coupon::errors
