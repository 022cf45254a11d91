#pragma once

#include "coupon/base/result.h"
#include "coupon/mysql/store.h"

#include <QSqlDatabase>

namespace coupon::mysql {

// The operator's changes to campaign rows (couponctl, the console). The
// worker's writes are BatchWriter's.
Status createCampaign(const QSqlDatabase &db, const Campaign &campaign);
Status setState(const QSqlDatabase &db, const QString &id, const QString &state);
Status setLimit(const QSqlDatabase &db, const QString &id, qint64 limit);
Status resetCampaign(const QSqlDatabase &db, const QString &id); // one transaction

} // namespace coupon::mysql
