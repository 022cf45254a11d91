#pragma once

#include "coupon/base/result.h"
#include "coupon/mysql/store.h"

#include <QList>
#include <QSqlDatabase>

#include <optional>

namespace coupon::mysql {

// What the console, couponctl, the gateway and the audit read: campaigns,
// coupons (keyset-paged by id) and failed events. Each call is one statement.
Result<std::optional<Campaign>> campaign(QSqlDatabase db, const QString &id);
Result<QList<Campaign>> campaigns(QSqlDatabase db);
Result<qint64> couponCount(QSqlDatabase db, const QString &campaign);
Result<QList<CouponRow>> coupons(QSqlDatabase db, const QString &campaign, qint64 afterId, int limit,
                                 std::optional<qint64> userId);
Result<QList<qint64>> couponUsers(QSqlDatabase db, const QString &campaign);
Result<qint64> duplicateHolders(QSqlDatabase db, const QString &campaign);
Result<bool> hasCoupon(QSqlDatabase db, const QString &campaign, qint64 userId);
Result<QList<FailedEventRow>> failedEvents(QSqlDatabase db, qint64 afterId, int limit, const QString &campaign);
Result<qint64> failedEventCount(QSqlDatabase db, const QString &campaign);

} // namespace coupon::mysql
