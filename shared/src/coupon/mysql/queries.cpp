#include "coupon/mysql/queries.h"

#include "coupon/mysql/sql_errors.h"
#include "coupon/mysql/sql_text.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

using namespace Qt::StringLiterals;

namespace coupon::mysql {

namespace {

Campaign campaignFrom(const QSqlQuery &q)
{
    Campaign c;
    c.id = q.value(0).toString();
    c.name = q.value(1).toString();
    c.limit = q.value(2).toLongLong();
    c.issued = q.value(3).toLongLong();
    c.state = q.value(4).toString();
    c.startsAt = utc(q.value(5));
    c.endsAt = utc(q.value(6));
    c.createdAt = utc(q.value(7));
    return c;
}

constexpr const char *kCampaignColumns = "id, name, coupon_limit, issued, state, starts_at, ends_at, created_at";

} // namespace

Result<std::optional<Campaign>> campaign(const QSqlDatabase &db, const QString &id)
{
    QSqlQuery q(db);
    q.prepare(u"SELECT %1 FROM campaign WHERE id = ?"_s.arg(QLatin1String(kCampaignColumns)));
    q.addBindValue(id);
    if (!q.exec())
        return errors::fromSql(q.lastError(), u"campaign "_s + id);
    if (!q.next())
        return std::optional<Campaign>();
    return std::optional<Campaign>(campaignFrom(q));
}

Result<QList<Campaign>> campaigns(const QSqlDatabase &db)
{
    QSqlQuery q(db);
    if (!q.exec(u"SELECT %1 FROM campaign ORDER BY id"_s.arg(QLatin1String(kCampaignColumns))))
        return errors::fromSql(q.lastError(), u"campaigns"_s);
    QList<Campaign> list;
    while (q.next())
        list << campaignFrom(q);
    return list;
}

Result<qint64> couponCount(const QSqlDatabase &db, const QString &campaign)
{
    QSqlQuery q(db);
    q.prepare(u"SELECT COUNT(*) FROM coupon WHERE campaign_id = ?"_s);
    q.addBindValue(campaign);
    if (!q.exec() || !q.next())
        return errors::fromSql(q.lastError(), u"count coupons"_s);
    return q.value(0).toLongLong();
}

Result<QList<CouponRow>> coupons(const QSqlDatabase &db, const QString &campaign, qint64 afterId, int limit,
                                 std::optional<qint64> userId)
{
    QSqlQuery q(db);
    q.setForwardOnly(true);
    q.prepare(u"SELECT id, campaign_id, user_id, ticket, issued_at, kafka_partition, kafka_offset FROM coupon "
              "WHERE campaign_id = ? AND id > ?"_s
              + (userId ? u" AND user_id = ?"_s : QString()) + u" ORDER BY id LIMIT ?"_s);
    q.addBindValue(campaign);
    q.addBindValue(afterId);
    if (userId)
        q.addBindValue(*userId);
    q.addBindValue(limit);
    if (!q.exec())
        return errors::fromSql(q.lastError(), u"coupons"_s);
    QList<CouponRow> rows;
    while (q.next()) {
        CouponRow r;
        r.id = q.value(0).toLongLong();
        r.campaign = q.value(1).toString();
        r.userId = q.value(2).toLongLong();
        r.ticket = q.value(3).toLongLong();
        r.issuedAt = utc(q.value(4));
        r.partition = q.value(5).toInt();
        r.offset = q.value(6).toLongLong();
        rows << r;
    }
    return rows;
}

Result<QList<qint64>> couponUsers(const QSqlDatabase &db, const QString &campaign)
{
    QSqlQuery q(db);
    q.setForwardOnly(true);
    q.prepare(u"SELECT user_id FROM coupon WHERE campaign_id = ? ORDER BY user_id"_s);
    q.addBindValue(campaign);
    if (!q.exec())
        return errors::fromSql(q.lastError(), u"coupon holders"_s);
    QList<qint64> users;
    while (q.next())
        users << q.value(0).toLongLong();
    return users;
}

Result<qint64> duplicateHolders(const QSqlDatabase &db, const QString &campaign)
{
    QSqlQuery q(db);
    q.prepare(u"SELECT COUNT(*) FROM (SELECT user_id FROM coupon WHERE campaign_id = ? GROUP BY user_id "
              "HAVING COUNT(*) > 1) d"_s);
    q.addBindValue(campaign);
    if (!q.exec() || !q.next())
        return errors::fromSql(q.lastError(), u"duplicate holders"_s);
    return q.value(0).toLongLong();
}

Result<bool> hasCoupon(const QSqlDatabase &db, const QString &campaign, qint64 userId)
{
    QSqlQuery q(db);
    q.prepare(u"SELECT 1 FROM coupon WHERE campaign_id = ? AND user_id = ?"_s);
    q.addBindValue(campaign);
    q.addBindValue(userId);
    if (!q.exec())
        return errors::fromSql(q.lastError(), u"coupon of a user"_s);
    return q.next();
}

namespace {

constexpr const char *kFailedEventColumns
    = "id, topic, kafka_partition, kafka_offset, msg_key, msg_value, reason, campaign_id, created_at, resolved_at, "
      "resolved_by, resolution, retries, last_retry_at, last_retry_by, last_retry_outcome";

FailedEventRow failedEventFrom(const QSqlQuery &q)
{
    FailedEventRow r;
    r.id = q.value(0).toLongLong();
    r.topic = q.value(1).toString();
    r.partition = q.value(2).toInt();
    r.offset = q.value(3).toLongLong();
    r.key = q.value(4).toByteArray();
    r.value = q.value(5).toByteArray();
    r.reason = q.value(6).toString();
    r.campaign = q.value(7).toString();
    r.createdAt = utc(q.value(8));
    r.resolvedAt = utc(q.value(9));
    r.resolvedBy = q.value(10).toString();
    r.resolution = q.value(11).toString();
    r.retries = q.value(12).toInt();
    r.lastRetryAt = utc(q.value(13));
    r.lastRetryBy = q.value(14).toString();
    r.lastRetryOutcome = q.value(15).toString();
    return r;
}

} // namespace

Result<QList<FailedEventRow>> failedEvents(const QSqlDatabase &db, qint64 afterId, int limit, const QString &campaign,
                                           bool unresolvedOnly)
{
    QSqlQuery q(db);
    q.setForwardOnly(true);
    q.prepare(u"SELECT %1 FROM failed_event WHERE id > ?"_s.arg(QLatin1String(kFailedEventColumns))
              + (campaign.isEmpty() ? QString() : u" AND campaign_id = ?"_s)
              + (unresolvedOnly ? u" AND resolved_at IS NULL"_s : QString()) + u" ORDER BY id LIMIT ?"_s);
    q.addBindValue(afterId);
    if (!campaign.isEmpty())
        q.addBindValue(campaign);
    q.addBindValue(limit);
    if (!q.exec())
        return errors::fromSql(q.lastError(), u"failed events"_s);
    QList<FailedEventRow> rows;
    while (q.next())
        rows << failedEventFrom(q);
    return rows;
}

Result<std::optional<FailedEventRow>> failedEvent(const QSqlDatabase &db, qint64 id)
{
    QSqlQuery q(db);
    q.prepare(u"SELECT %1 FROM failed_event WHERE id = ?"_s.arg(QLatin1String(kFailedEventColumns)));
    q.addBindValue(id);
    if (!q.exec())
        return errors::fromSql(q.lastError(), u"failed event %1"_s.arg(id));
    if (!q.next())
        return std::optional<FailedEventRow>();
    return std::optional<FailedEventRow>(failedEventFrom(q));
}

Result<qint64> unresolvedFailedEvents(const QSqlDatabase &db, const QString &campaign)
{
    QSqlQuery q(db);
    q.prepare(u"SELECT COUNT(*) FROM failed_event WHERE resolved_at IS NULL AND "_s
              + (campaign.isEmpty() ? u"campaign_id IS NULL"_s : u"campaign_id = ?"_s));
    if (!campaign.isEmpty())
        q.addBindValue(campaign);
    if (!q.exec() || !q.next())
        return errors::fromSql(q.lastError(), u"count unresolved failed events"_s);
    return q.value(0).toLongLong();
}

Result<QHash<QString, qint64>> unresolvedFailedEventsByCampaign(const QSqlDatabase &db)
{
    QSqlQuery q(db);
    q.setForwardOnly(true);
    if (!q.exec(u"SELECT campaign_id, COUNT(*) FROM failed_event WHERE resolved_at IS NULL AND campaign_id IS NOT NULL "
                "GROUP BY campaign_id"_s))
        return errors::fromSql(q.lastError(), u"count unresolved failed events per campaign"_s);
    QHash<QString, qint64> counts;
    while (q.next())
        counts.insert(q.value(0).toString(), q.value(1).toLongLong());
    return counts;
}

Result<qint64> failedEventCount(const QSqlDatabase &db, const QString &campaign)
{
    QSqlQuery q(db);
    q.prepare(u"SELECT COUNT(*) FROM failed_event"_s + (campaign.isEmpty() ? QString() : u" WHERE campaign_id = ?"_s));
    if (!campaign.isEmpty())
        q.addBindValue(campaign);
    if (!q.exec() || !q.next())
        return errors::fromSql(q.lastError(), u"count failed events"_s);
    return q.value(0).toLongLong();
}

} // namespace coupon::mysql
