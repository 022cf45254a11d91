#include "coupon/mysql/queries.h"

#include "coupon/mysql/sql_errors.h"
#include "coupon/mysql/sql_text.h"

#include <algorithm>

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

namespace {

constexpr const char *kCouponColumns = "id, campaign_id, user_id, ticket, issued_at, kafka_partition, kafka_offset";

// `sql` with %1 for a campaign's coupons, of one user or all
// ("coupon ... WHERE campaign_id = ? ..."), placed before any other
// placeholder; binds the campaign, the user, then `values`. Without a user
// the (campaign_id, id) index is named: MariaDB otherwise picked another
// key and a filesort for ORDER BY id ... OFFSET, or walked the primary key
// through the other campaigns' rows (EXPLAIN on a 1,000,000-coupon
// campaign, DESIGN.md). With a user, UNIQUE (campaign_id,
// user_id) finds the one row.
QSqlQuery couponQuery(const QSqlDatabase &db, const QString &sql, const QString &campaign, std::optional<qint64> userId,
                      const QVariantList &values)
{
    QSqlQuery q(db);
    q.setForwardOnly(true);
    q.prepare(sql.arg(userId ? u"coupon WHERE campaign_id = ? AND user_id = ?"_s
                             : u"coupon FORCE INDEX (coupon_campaign_id) WHERE campaign_id = ?"_s));
    q.addBindValue(campaign);
    if (userId)
        q.addBindValue(*userId);
    for (const QVariant &v : values)
        q.addBindValue(v);
    return q;
}

QString couponSelect(const QString &tail)
{
    return u"SELECT "_s + QLatin1String(kCouponColumns) + u" FROM %1"_s + tail;
}

Result<QList<CouponRow>> couponRows(QSqlQuery &q, const QString &what)
{
    if (!q.exec())
        return errors::fromSql(q.lastError(), what);
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

Result<std::optional<qint64>> firstId(QSqlQuery &q, const QString &what)
{
    if (!q.exec())
        return errors::fromSql(q.lastError(), what);
    if (!q.next() || q.isNull(0))
        return std::optional<qint64>();
    return std::optional<qint64>(q.value(0).toLongLong());
}

} // namespace

Result<QList<CouponRow>> coupons(const QSqlDatabase &db, const QString &campaign, qint64 afterId, int limit,
                                 std::optional<qint64> userId)
{
    QSqlQuery q = couponQuery(db, couponSelect(u" AND id > ? ORDER BY id LIMIT ?"_s), campaign, userId,
                              {afterId, limit});
    return couponRows(q, u"coupons"_s);
}

Result<QList<CouponRow>> couponsBefore(const QSqlDatabase &db, const QString &campaign, std::optional<qint64> userId,
                                       qint64 beforeId, int limit)
{
    QSqlQuery q = couponQuery(db, couponSelect(u" AND id < ? ORDER BY id DESC LIMIT ?"_s), campaign, userId,
                              {beforeId, limit});
    Result<QList<CouponRow>> rows = couponRows(q, u"coupons"_s);
    if (rows)
        std::reverse(rows->begin(), rows->end());
    return rows;
}

Result<QList<CouponRow>> couponsAt(const QSqlDatabase &db, const QString &campaign, std::optional<qint64> userId,
                                   qint64 position, int limit, qint64 total, qint64 maxId)
{
    if (position < 0 || limit <= 0 || position >= total)
        return QList<CouponRow>();
    limit = int(std::min<qint64>(limit, total - position));
    // OFFSET walks the index from the end it counts from: from the nearer
    // one, at most half the campaign. The inner select stays on the narrow
    // index; only the rows shown are read from the table.
    const bool fromEnd = position > total / 2;
    const qint64 offset = fromEnd ? total - position - limit : position;
    QSqlQuery q = couponQuery(db,
                              u"SELECT "_s + QLatin1String(kCouponColumns)
                                  + u" FROM coupon JOIN (SELECT id FROM %1 AND id <= ? ORDER BY id "_s
                                  + (fromEnd ? u"DESC"_s : u"ASC"_s) + u" LIMIT ? OFFSET ?) k USING (id) ORDER BY id"_s,
                              campaign, userId, {maxId, limit, offset});
    return couponRows(q, u"coupons"_s);
}

Result<CouponSpan> couponSpan(const QSqlDatabase &db, const QString &campaign, std::optional<qint64> userId,
                              qint64 afterId)
{
    QSqlQuery q = couponQuery(db, u"SELECT COUNT(*), COALESCE(MAX(id), 0) FROM %1 AND id > ?"_s, campaign, userId,
                              {afterId});
    if (!q.exec() || !q.next())
        return errors::fromSql(q.lastError(), u"count coupons"_s);
    return CouponSpan{q.value(0).toLongLong(), q.value(1).toLongLong()};
}

Result<qint64> couponPosition(const QSqlDatabase &db, const QString &campaign, std::optional<qint64> userId, qint64 id)
{
    QSqlQuery q = couponQuery(db, u"SELECT COUNT(*) FROM %1 AND id < ?"_s, campaign, userId, {id});
    if (!q.exec() || !q.next())
        return errors::fromSql(q.lastError(), u"coupon position"_s);
    return q.value(0).toLongLong();
}

Result<std::optional<qint64>> findCoupon(const QSqlDatabase &db, const QString &campaign, std::optional<qint64> userId,
                                         const CouponJump &jump, qint64 maxId)
{
    const QString what = u"find coupon"_s;
    switch (jump.kind) {
    case CouponJump::User: {
        if (userId && *userId != jump.value) // the filter shows another user's coupon only
            return std::optional<qint64>();
        QSqlQuery q = couponQuery(db, u"SELECT id FROM %1 AND id <= ?"_s, campaign, jump.value, {maxId});
        return firstId(q, what);
    }
    case CouponJump::Time: {
        // The session is in UTC, like the DATETIME(3) values. There is no
        // index on issued_at: one cost the worker's inserts 12 % of its drain
        // (DESIGN.md, "The coupon browser at any size"). issued_at follows id
        // (a statement's rows share its start time and take their ids as it
        // runs) except across statements that overlap, so the ids are
        // searched, then the rows just before the find are looked over.
        const QString at = jump.time.toUTC().toString(u"yyyy-MM-dd HH:mm:ss.zzz"_s);
        if (userId) {
            QSqlQuery q = couponQuery(db, u"SELECT id FROM %1 AND issued_at >= ? AND id <= ?"_s, campaign, userId,
                                      {at, maxId});
            return firstId(q, what);
        }
        QSqlQuery first = couponQuery(db, u"SELECT MIN(id) FROM %1 AND id <= ?"_s, campaign, {}, {maxId});
        Result<std::optional<qint64>> lowest = firstId(first, what);
        if (!lowest || !*lowest)
            return lowest;
        // The first coupon in [mid, end), and whether it was issued at or after `at`.
        QSqlQuery probe(db);
        probe.setForwardOnly(true);
        probe.prepare(u"SELECT id, issued_at >= ? FROM coupon FORCE INDEX (coupon_campaign_id) WHERE campaign_id = ? "
                      "AND id >= ? AND id < ? ORDER BY id LIMIT 1"_s);
        qint64 lo = **lowest, end = maxId + 1;
        std::optional<qint64> found;
        while (lo < end) {
            const qint64 mid = lo + (end - lo) / 2;
            probe.bindValue(0, at);
            probe.bindValue(1, campaign);
            probe.bindValue(2, mid);
            probe.bindValue(3, end);
            if (!probe.exec())
                return errors::fromSql(probe.lastError(), what);
            if (!probe.next()) {
                end = mid; // no coupon in [mid, end)
            } else if (probe.value(1).toBool()) {
                found = probe.value(0).toLongLong();
                end = mid; // an earlier one, if any, is before mid
            } else {
                lo = probe.value(0).toLongLong() + 1;
            }
        }
        // Statements that overlapped: the rows of the batches that could have
        // run beside the one found (workers × worker.batch.size, well under this).
        constexpr int kOverlapRows = 20000;
        QSqlQuery back(db);
        back.setForwardOnly(true);
        back.prepare(
            u"SELECT MIN(id) FROM (SELECT id, issued_at FROM coupon FORCE INDEX (coupon_campaign_id) "
            "WHERE campaign_id = ? AND id < ? ORDER BY id DESC LIMIT %1) w WHERE issued_at >= ?"_s.arg(kOverlapRows));
        back.addBindValue(campaign);
        back.addBindValue(found ? *found : maxId + 1);
        back.addBindValue(at);
        Result<std::optional<qint64>> earlier = firstId(back, what);
        if (!earlier || !*earlier)
            return earlier ? Result<std::optional<qint64>>(found) : earlier;
        return earlier;
    }
    case CouponJump::Id: {
        // That coupon, else the nearer of its neighbours in the campaign.
        QSqlQuery above = couponQuery(db, u"SELECT MIN(id) FROM %1 AND id >= ? AND id <= ?"_s, campaign, userId,
                                      {jump.value, maxId});
        Result<std::optional<qint64>> up = firstId(above, what);
        if (!up || (*up && **up == jump.value))
            return up;
        QSqlQuery below = couponQuery(db, u"SELECT MAX(id) FROM %1 AND id < ? AND id <= ?"_s, campaign, userId,
                                      {jump.value, maxId});
        Result<std::optional<qint64>> down = firstId(below, what);
        if (!down || !*up)
            return down;
        if (!*down || **up - jump.value <= jump.value - **down)
            return up;
        return down;
    }
    }
    return std::optional<qint64>();
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
