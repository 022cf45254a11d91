#pragma once

#include "coupon/base/result.h"
#include "coupon/mysql/store.h"

#include <QHash>
#include <QList>
#include <QSqlDatabase>

#include <optional>

namespace coupon::mysql {

// What the console, couponctl, the gateway and the audit read: campaigns,
// coupons (keyset-paged by id) and failed events. Each call is one statement.
Result<std::optional<Campaign>> campaign(const QSqlDatabase &db, const QString &id);
Result<QList<Campaign>> campaigns(const QSqlDatabase &db);
Result<qint64> couponCount(const QSqlDatabase &db, const QString &campaign);
Result<QList<CouponRow>> coupons(const QSqlDatabase &db, const QString &campaign, qint64 afterId, int limit,
                                 std::optional<qint64> userId);
Result<QList<CouponRow>> couponsAt(const QSqlDatabase &db, const QString &campaign, std::optional<qint64> userId,
                                   qint64 position, int limit, qint64 total, qint64 maxId);
Result<QList<CouponRow>> couponsBefore(const QSqlDatabase &db, const QString &campaign, std::optional<qint64> userId,
                                       qint64 beforeId, int limit);
Result<CouponSpan> couponSpan(const QSqlDatabase &db, const QString &campaign, std::optional<qint64> userId,
                              qint64 afterId);
Result<qint64> couponPosition(const QSqlDatabase &db, const QString &campaign, std::optional<qint64> userId, qint64 id);
Result<std::optional<qint64>> findCoupon(const QSqlDatabase &db, const QString &campaign, std::optional<qint64> userId,
                                         const CouponJump &jump, qint64 maxId);
Result<QList<qint64>> couponUsers(const QSqlDatabase &db, const QString &campaign);
Result<qint64> duplicateHolders(const QSqlDatabase &db, const QString &campaign);
Result<bool> hasCoupon(const QSqlDatabase &db, const QString &campaign, qint64 userId);
Result<QList<FailedEventRow>> failedEvents(const QSqlDatabase &db, qint64 afterId, int limit, const QString &campaign,
                                           bool unresolvedOnly);
Result<std::optional<FailedEventRow>> failedEvent(const QSqlDatabase &db, qint64 id);
Result<qint64> failedEventCount(const QSqlDatabase &db, const QString &campaign);
// Empty campaign: the unresolved ones attributed to no campaign.
Result<qint64> unresolvedFailedEvents(const QSqlDatabase &db, const QString &campaign);
// Every campaign's unresolved failed events in one grouped query (index
// failed_event_unresolved); campaigns without any are absent.
Result<QHash<QString, qint64>> unresolvedFailedEventsByCampaign(const QSqlDatabase &db);

} // namespace coupon::mysql
