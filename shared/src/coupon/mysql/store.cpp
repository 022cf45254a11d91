#include "coupon/mysql/store.h"

#include "coupon/mysql/batch_writer.h"
#include "coupon/mysql/campaign_writes.h"
#include "coupon/mysql/failed_event_writes.h"
#include "coupon/mysql/migrations.h"
#include "coupon/mysql/queries.h"
#include "coupon/mysql/sql_errors.h"

#include <QSqlError>
#include <QSqlQuery>

using namespace Qt::StringLiterals;

namespace coupon {

CouponStore::CouponStore(MysqlSettings settings, QString connectionName)
    : m_settings(std::move(settings))
    , m_connectionName(std::move(connectionName))
{ }

CouponStore::~CouponStore()
{
    {
        QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
        if (db.isValid())
            db.close();
    }
    if (QSqlDatabase::contains(m_connectionName))
        QSqlDatabase::removeDatabase(m_connectionName);
}

QSqlDatabase CouponStore::database() const
{
    return QSqlDatabase::database(m_connectionName, false);
}

Status CouponStore::open()
{
    if (!QSqlDatabase::isDriverAvailable(u"QMYSQL"_s))
        return Error(Errc::MysqlDriver, u"Qt's QMYSQL driver is not installed (Debian: libqt6sql6-mysql)"_s);
    QSqlDatabase db = QSqlDatabase::contains(m_connectionName)
        ? QSqlDatabase::database(m_connectionName, false)
        : QSqlDatabase::addDatabase(u"QMYSQL"_s, m_connectionName);
    db.setHostName(m_settings.host);
    db.setPort(m_settings.port);
    db.setDatabaseName(m_settings.database);
    db.setUserName(m_settings.user);
    db.setPassword(m_settings.password);
    QString options = u"MYSQL_OPT_CONNECT_TIMEOUT=5;MYSQL_OPT_READ_TIMEOUT=30;MYSQL_OPT_WRITE_TIMEOUT=30"_s;
    if (!m_settings.connectOptions.isEmpty())
        options += u';' + m_settings.connectOptions;
    db.setConnectOptions(options);
    const QString where
        = u"MySQL %1@%2:%3/%4"_s.arg(m_settings.user, m_settings.host).arg(m_settings.port).arg(m_settings.database);
    if (!db.open())
        return errors::fromSql(db.lastError(), where);
    QSqlQuery q(db);
    for (const QString &statement :
         {u"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
          "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY'"_s,
          u"SET SESSION time_zone = '+00:00'"_s, u"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"_s}) {
        if (!q.exec(statement))
            return errors::fromSql(q.lastError(), where);
    }
    return Ok{};
}

Status CouponStore::reopen()
{
    {
        QSqlDatabase db = database();
        if (db.isValid())
            db.close();
    }
    return open();
}

Status CouponStore::ping()
{
    QSqlQuery q(database());
    if (!q.exec(u"SELECT 1"_s))
        return errors::fromSql(q.lastError(), u"ping"_s);
    return Ok{};
}

int CouponStore::latestSchemaVersion()
{
    return mysql::latestSchemaVersion();
}

Result<int> CouponStore::schemaVersion()
{
    return mysql::schemaVersion(database());
}

Status CouponStore::migrate()
{
    return mysql::migrate(database(), m_settings.user);
}

Result<BatchOutcome> CouponStore::writeBatch(const QString &topic, const std::vector<IncomingRecord> &records)
{
    return mysql::BatchWriter(database(), topic).write(records);
}

Status CouponStore::createCampaign(const Campaign &campaign)
{
    return mysql::createCampaign(database(), campaign);
}

Result<std::optional<Campaign>> CouponStore::campaign(const QString &id)
{
    return mysql::campaign(database(), id);
}

Result<QList<Campaign>> CouponStore::campaigns()
{
    return mysql::campaigns(database());
}

Status CouponStore::setState(const QString &id, const QString &state)
{
    return mysql::setState(database(), id, state);
}

Status CouponStore::setLimit(const QString &id, qint64 limit)
{
    return mysql::setLimit(database(), id, limit);
}

Status CouponStore::resetCampaign(const QString &id)
{
    return mysql::resetCampaign(database(), id);
}

Result<qint64> CouponStore::couponCount(const QString &campaign)
{
    return mysql::couponCount(database(), campaign);
}

Result<QList<CouponRow>> CouponStore::coupons(const QString &campaign, qint64 afterId, int limit,
                                              std::optional<qint64> userId)
{
    return mysql::coupons(database(), campaign, afterId, limit, userId);
}

Result<QList<CouponRow>> CouponStore::couponsAt(const QString &campaign, std::optional<qint64> userId, qint64 position,
                                                int limit, qint64 total, qint64 maxId)
{
    return mysql::couponsAt(database(), campaign, userId, position, limit, total, maxId);
}

Result<QList<CouponRow>> CouponStore::couponsBefore(const QString &campaign, std::optional<qint64> userId,
                                                    qint64 beforeId, int limit)
{
    return mysql::couponsBefore(database(), campaign, userId, beforeId, limit);
}

Result<CouponSpan> CouponStore::couponSpan(const QString &campaign, std::optional<qint64> userId, qint64 afterId)
{
    return mysql::couponSpan(database(), campaign, userId, afterId);
}

Result<qint64> CouponStore::couponPosition(const QString &campaign, std::optional<qint64> userId, qint64 id)
{
    return mysql::couponPosition(database(), campaign, userId, id);
}

Result<std::optional<qint64>> CouponStore::findCoupon(const QString &campaign, std::optional<qint64> userId,
                                                      const CouponJump &jump, qint64 maxId)
{
    return mysql::findCoupon(database(), campaign, userId, jump, maxId);
}

Result<QList<qint64>> CouponStore::couponUsers(const QString &campaign)
{
    return mysql::couponUsers(database(), campaign);
}

Result<qint64> CouponStore::duplicateHolders(const QString &campaign)
{
    return mysql::duplicateHolders(database(), campaign);
}

Result<bool> CouponStore::hasCoupon(const QString &campaign, qint64 userId)
{
    return mysql::hasCoupon(database(), campaign, userId);
}

Result<QList<FailedEventRow>> CouponStore::failedEvents(qint64 afterId, int limit, const QString &campaign,
                                                        bool unresolvedOnly)
{
    return mysql::failedEvents(database(), afterId, limit, campaign, unresolvedOnly);
}

Result<std::optional<FailedEventRow>> CouponStore::failedEvent(qint64 id)
{
    return mysql::failedEvent(database(), id);
}

Result<qint64> CouponStore::unresolvedFailedEvents(const QString &campaign)
{
    return mysql::unresolvedFailedEvents(database(), campaign);
}

Result<QHash<QString, qint64>> CouponStore::unresolvedFailedEventsByCampaign()
{
    return mysql::unresolvedFailedEventsByCampaign(database());
}

Status CouponStore::recordRetry(qint64 id, const QString &by, const QString &outcome, bool resolved,
                                const QString &resolution)
{
    return mysql::recordRetry(database(), id, by, outcome, resolved, resolution);
}

Status CouponStore::resolveFailedEvent(qint64 id, const QString &by, const QString &resolution)
{
    return mysql::resolveFailedEvent(database(), id, by, resolution);
}

Result<qint64> CouponStore::failedEventCount(const QString &campaign)
{
    return mysql::failedEventCount(database(), campaign);
}

} // namespace coupon
