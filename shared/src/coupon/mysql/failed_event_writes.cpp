#include "coupon/mysql/failed_event_writes.h"

#include "coupon/mysql/sql_errors.h"

#include <QDateTime>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

using namespace Qt::StringLiterals;

namespace coupon::mysql {

namespace {

// Why an UPDATE ... WHERE id = ? AND resolved_at IS NULL changed nothing.
Status whyUnchanged(const QSqlDatabase &db, qint64 id)
{
    QSqlQuery q(db);
    q.prepare(u"SELECT resolved_by, resolved_at FROM failed_event WHERE id = ?"_s);
    q.addBindValue(id);
    if (!q.exec())
        return errors::fromSql(q.lastError(), u"failed event %1"_s.arg(id));
    if (!q.next())
        return Error(Errc::FailedEventUnknown, u"no failed event %1"_s.arg(id));
    return Error(Errc::FailedEventResolved,
                 u"failed event %1 was resolved already (by %2 at %3)"_s.arg(id).arg(
                     q.value(0).toString(), q.value(1).toDateTime().toString(Qt::ISODateWithMs)));
}

Status updateUnresolved(QSqlQuery &q, const QSqlDatabase &db, qint64 id, const QString &what)
{
    if (!q.exec())
        return errors::fromSql(q.lastError(), u"%1 failed event %2"_s.arg(what).arg(id));
    if (q.numRowsAffected() != 1)
        return whyUnchanged(db, id);
    return Ok{};
}

} // namespace

Status recordRetry(const QSqlDatabase &db, qint64 id, const QString &by, const QString &outcome, bool resolved,
                   const QString &resolution)
{
    QSqlQuery q(db);
    q.prepare(u"UPDATE failed_event SET retries = retries + 1, last_retry_at = CURRENT_TIMESTAMP(3), "
              "last_retry_by = ?, last_retry_outcome = ?"_s
              + (resolved ? u", resolved_at = CURRENT_TIMESTAMP(3), resolved_by = ?, resolution = ?"_s : QString())
              + u" WHERE id = ? AND resolved_at IS NULL"_s);
    q.addBindValue(by);
    q.addBindValue(outcome);
    if (resolved) {
        q.addBindValue(by);
        q.addBindValue(resolution);
    }
    q.addBindValue(id);
    return updateUnresolved(q, db, id, u"record a retry of"_s);
}

Status resolveFailedEvent(const QSqlDatabase &db, qint64 id, const QString &by, const QString &resolution)
{
    QSqlQuery q(db);
    q.prepare(u"UPDATE failed_event SET resolved_at = CURRENT_TIMESTAMP(3), resolved_by = ?, resolution = ? "
              "WHERE id = ? AND resolved_at IS NULL"_s);
    q.addBindValue(by);
    q.addBindValue(resolution);
    q.addBindValue(id);
    return updateUnresolved(q, db, id, u"resolve"_s);
}

} // namespace coupon::mysql
